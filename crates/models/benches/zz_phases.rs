use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use fdfat_models::LandmarkModel;
use std::time::{Duration, Instant};
fn main() {
    let model_name = std::env::args().nth(1).unwrap_or("LWModel".into());
    let flags: Vec<(String,String)> = vec![("model".into(), model_name.clone()), ("face_cls".into(), "true".into())];
    let cfg = fdfat_config::resolve(None, &flags).unwrap();
    let device = Device::default().autodiff();
    let mut model = LandmarkModel::new(&cfg, &device).unwrap();
    let mut opt = AdamConfig::new().init();
    let x = Tensor::<4>::random([64, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), &device);
    let target = Tensor::<2>::random([64, 141], Distribution::Uniform(-0.5, 0.5), &device);
    let (mut f, mut b) = (vec![], vec![]);
    for _ in 0..5 {
        let t0 = Instant::now();
        let loss = (model.forward(x.clone()) - target.clone()).abs().mean();
        let _ = loss.clone().into_data();
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = opt.step(2e-3, model, grads);
        let _ = model.clone().valid().num_params();
        f.push(t1 - t0); b.push(t1.elapsed());
    }
    let inf = model.valid();
    let xi = Tensor::<4>::random([1, 3, 96, 96], Distribution::Uniform(-1.0, 1.0), &Device::default());
    let mut i: Vec<Duration> = (0..30).map(|_| { let t=Instant::now(); let _ = inf.forward(xi.clone()).into_data(); t.elapsed() }).collect();
    f.sort(); b.sort(); i.sort();
    println!("{model_name} MM={}: fwd {:?} bwd+step {:?} infer b1 {:?}", std::env::var("MM").is_ok(), f[2], b[2], i[15]);
}
