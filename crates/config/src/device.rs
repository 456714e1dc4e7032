//! The `device` key: which compute device a run asks for.

use std::fmt;

/// A parsed `device` value. Which of these a build can honour depends on its cargo features;
/// `fdfat-models` maps a spec onto a burn device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The default CPU backend (flex, or ndarray when built with it).
    Cpu,
    /// The wgpu backend (Vulkan, Metal, DX12).
    Wgpu,
    /// CUDA devices by index; several mean data-parallel training.
    Cuda(Vec<usize>),
    /// Every CUDA device present.
    CudaAll,
    /// A value of the original (`mps`, `'0'`, `0,1`) that this build maps to its best device.
    Fallback(String),
}

impl DeviceSpec {
    /// Parses a `device` value. Returns an error message for values nobody would mean.
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim().to_ascii_lowercase();
        if v == "cpu" {
            return Ok(DeviceSpec::Cpu);
        }
        if v == "wgpu" || v == "gpu" {
            return Ok(DeviceSpec::Wgpu);
        }
        if v == "cuda" {
            return Ok(DeviceSpec::Cuda(vec![0]));
        }
        if v == "cuda:all" {
            return Ok(DeviceSpec::CudaAll);
        }
        if let Some(ids) = v.strip_prefix("cuda:") {
            return parse_ids(ids)
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| format!("`{value}`: expected cuda:N, cuda:N,M,... or cuda:all"));
        }
        if v == "mps" || parse_ids(&v).is_some() {
            return Ok(DeviceSpec::Fallback(value.to_string()));
        }
        Err(format!(
            "`{value}`: expected cpu, wgpu, cuda, cuda:N, cuda:N,M or cuda:all"
        ))
    }
}

fn parse_ids(text: &str) -> Option<Vec<usize>> {
    text.split(',').map(|s| s.trim().parse().ok()).collect()
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Wgpu => f.write_str("wgpu"),
            DeviceSpec::Cuda(ids) => {
                let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                write!(f, "cuda:{}", ids.join(","))
            }
            DeviceSpec::CudaAll => f.write_str("cuda:all"),
            DeviceSpec::Fallback(v) => write!(f, "{v} (original fdfat value)"),
        }
    }
}
