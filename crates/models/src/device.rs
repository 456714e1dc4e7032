//! The `device` key mapped onto a burn [`Device`] of the backends this build includes.

use crate::error::ModelError;
use burn::tensor::Device;
use fdfat_config::DeviceSpec;

/// The burn device for a `device` key value, printing the fallback warning of [`device_for`]
/// to stderr.
pub fn device_for_config(value: &str) -> Result<Device, ModelError> {
    let (device, warning) = device_for(&parse(value)?);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    Ok(device)
}

/// The `device` key's value parsed, or the error naming the key.
fn parse(value: &str) -> Result<DeviceSpec, ModelError> {
    DeviceSpec::parse(value).map_err(|reason| ModelError::InvalidConfig {
        key: "device",
        value: value.to_string(),
        reason,
    })
}

/// The devices a training run with `device: value` uses: one, or several CUDA devices
/// (`cuda:0,1`, `cuda:all`) for data-parallel training, each a plain (non-autodiff) device.
/// Other specs give the single device of [`device_for_config`], warning the same way.
pub fn training_devices_for_config(value: &str) -> Result<Vec<Device>, ModelError> {
    let spec = parse(value)?;
    match spec {
        DeviceSpec::Cuda(ids) if ids.len() > 1 => Ok(cuda_devices(Some(&ids))),
        DeviceSpec::CudaAll => Ok(cuda_devices(None)),
        _ => device_for_config(value).map(|device| vec![device]),
    }
}

/// CUDA devices `ids`, or every CUDA device present; the CPU with a warning when CUDA is not
/// built in or none is present.
fn cuda_devices(ids: Option<&[usize]>) -> Vec<Device> {
    #[cfg(feature = "cuda")]
    {
        match ids {
            Some(ids) => {
                let count = cuda_device_count();
                let (present, missing): (Vec<usize>, Vec<usize>) =
                    ids.iter().partition(|&&i| i < count);
                for &index in &missing {
                    eprintln!("warning: {}", no_cuda_device(index, count, "skipping it"));
                }
                if present.is_empty() {
                    eprintln!("warning: no CUDA device of those asked for; using the CPU");
                    return vec![cpu_device()];
                }
                present.into_iter().map(Device::cuda).collect()
            }
            None => {
                let all = Device::enumerate(burn::tensor::DeviceType::Cuda).into_vec();
                if all.is_empty() {
                    eprintln!("warning: device `cuda:all`: no CUDA device found; using the CPU");
                    vec![cpu_device()]
                } else {
                    all
                }
            }
        }
    }
    #[cfg(not(feature = "cuda"))]
    {
        let asked = ids.map_or("cuda:all".to_string(), |ids| {
            let ids: Vec<String> = ids.iter().map(usize::to_string).collect();
            format!("cuda:{}", ids.join(","))
        });
        eprintln!("warning: {}", not_built(&asked, "cuda"));
        vec![cpu_device()]
    }
}

/// The burn device for `spec`, and a warning when the build cannot honour it as asked and
/// falls back (an original fdfat value such as `mps` or `'0'`, a backend not compiled in, or
/// several CUDA devices where one is used).
///
/// `cpu` is the flex backend (ndarray when the crate is built with `ndarray` instead).
pub fn device_for(spec: &DeviceSpec) -> (Device, Option<String>) {
    match spec {
        DeviceSpec::Cpu => (cpu_device(), None),
        DeviceSpec::Wgpu => wgpu_device(),
        DeviceSpec::Cuda(ids) => {
            let index = ids.first().copied().unwrap_or(0);
            let (device, warning) = cuda_device(index);
            let warning = warning.or_else(|| (ids.len() > 1).then(|| one_device(spec, index)));
            (device, warning)
        }
        DeviceSpec::CudaAll => {
            let (device, warning) = cuda_device(0);
            (device, warning.or_else(|| Some(one_device(spec, 0))))
        }
        DeviceSpec::Fallback(value) => {
            let (device, name) = best_device();
            let warning = format!(
                "device `{value}` is a value of the original fdfat; fdfat-rs uses {name} \
                 (set `device` to cpu, wgpu, cuda or cuda:N)"
            );
            (device, Some(warning))
        }
    }
}

/// The warning for a spec naming several CUDA devices, of which `index` is used.
fn one_device(spec: &DeviceSpec, index: usize) -> String {
    format!("device `{spec}`: one model runs on one device; using cuda:{index}")
}

/// The CPU device of this build.
fn cpu_device() -> Device {
    #[cfg(feature = "flex")]
    {
        Device::flex()
    }
    #[cfg(all(not(feature = "flex"), feature = "ndarray"))]
    #[allow(
        deprecated,
        reason = "a build with only the ndarray feature asks for it"
    )]
    {
        Device::ndarray()
    }
    #[cfg(not(any(feature = "flex", feature = "ndarray")))]
    {
        Device::default()
    }
}

/// The wgpu device, or the CPU with a warning when wgpu is not built in or finds no adapter.
fn wgpu_device() -> (Device, Option<String>) {
    #[cfg(feature = "wgpu")]
    {
        if Device::enumerate(burn::tensor::DeviceType::Wgpu)
            .into_vec()
            .is_empty()
        {
            let warning = "device `wgpu`: no graphics adapter found (no GPU, or no Vulkan, \
                           Metal or DX12 driver such as Mesa's lavapipe); using the CPU";
            return (cpu_device(), Some(warning.to_string()));
        }
        (Device::wgpu(burn::tensor::DeviceKind::DefaultDevice), None)
    }
    #[cfg(not(feature = "wgpu"))]
    {
        (cpu_device(), Some(not_built("wgpu", "wgpu")))
    }
}

/// CUDA device `index`, or the CPU with a warning when CUDA is not built in or the device is
/// not present (no NVIDIA driver, or fewer devices).
fn cuda_device(index: usize) -> (Device, Option<String>) {
    #[cfg(feature = "cuda")]
    {
        let count = cuda_device_count();
        if index >= count {
            return (
                cpu_device(),
                Some(no_cuda_device(index, count, "using the CPU")),
            );
        }
        (Device::cuda(index), None)
    }
    #[cfg(not(feature = "cuda"))]
    {
        (
            cpu_device(),
            Some(not_built(&format!("cuda:{index}"), "cuda")),
        )
    }
}

/// How many CUDA devices the driver reports: 0 without an NVIDIA driver (burn asks without
/// loading `libcuda` when it is absent, where a device's first use would panic).
#[cfg(feature = "cuda")]
fn cuda_device_count() -> usize {
    Device::enumerate(burn::tensor::DeviceType::Cuda)
        .into_vec()
        .len()
}

/// The warning for CUDA device `index` when the driver reports `count` devices.
#[cfg(feature = "cuda")]
fn no_cuda_device(index: usize, count: usize, instead: &str) -> String {
    if count == 0 {
        format!("device `cuda:{index}`: no CUDA device found (no NVIDIA driver or GPU); {instead}")
    } else {
        format!("device `cuda:{index}`: the driver reports {count} CUDA device(s); {instead}")
    }
}

/// The fastest device this build has, and its name.
fn best_device() -> (Device, &'static str) {
    #[cfg(feature = "cuda")]
    {
        if cuda_device_count() == 0 {
            return (cpu_device(), "the CPU (no CUDA device found)");
        }
        (Device::cuda(0usize), "cuda:0")
    }
    #[cfg(all(not(feature = "cuda"), feature = "wgpu"))]
    {
        (
            Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            "wgpu",
        )
    }
    #[cfg(not(any(feature = "cuda", feature = "wgpu")))]
    {
        (cpu_device(), "the CPU")
    }
}

#[cfg(not(all(feature = "wgpu", feature = "cuda")))]
fn not_built(asked: &str, feature: &str) -> String {
    format!(
        "device `{asked}` needs a build with the `{feature}` feature \
         (cargo build --features {feature}); using the CPU"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_has_no_warning() {
        let (device, warning) = device_for(&DeviceSpec::Cpu);
        assert!(warning.is_none());
        assert!(!device.is_autodiff());
    }

    #[test]
    fn original_values_fall_back_with_a_warning() {
        for value in ["mps", "0"] {
            let spec = DeviceSpec::parse(value).unwrap();
            let (_, warning) = device_for(&spec);
            let warning = warning.expect("a fallback warns");
            assert!(warning.contains(value), "{warning}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_falls_back_to_the_cpu() {
        let (device, warning) = device_for(&DeviceSpec::Cuda(vec![1]));
        assert_eq!(device, cpu_device());
        assert!(warning.unwrap().contains("--features cuda"));
    }
}
