//! Which activation tensors a QDQ model quantizes (see the module documentation of
//! [`crate::quantize`]).

use std::collections::{HashMap, HashSet};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// Operators whose float inputs are quantized.
pub const QUANTIZED_OPS: &[&str] = &[
    "Conv",
    "Gemm",
    "Add",
    "Mul",
    "MaxPool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Flatten",
    "Sigmoid",
    "Tanh",
    "Clip",
    "Relu",
    "PRelu",
    "LeakyRelu",
    "HardSwish",
];

/// Operators that may end the graph in float precision (see the module documentation).
const OUTPUT_TAIL_OPS: &[&str] = &["Concat", "Tanh", "Sigmoid"];

/// Element-wise operators that make up activation functions (ReLU6 as `Clip`, SiLU as
/// `Sigmoid` * `Mul`, GELU and Mish from `Div`, `Erf`, `Add`, `Softplus`, `Tanh`, `Mul`).
const ACTIVATION_OPS: &[&str] = &[
    "Clip",
    "Relu",
    "PRelu",
    "LeakyRelu",
    "HardSwish",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Erf",
    "Mul",
    "Div",
    "Add",
];

/// The activation tensors of `graph` to quantize, and for each the nodes (by index) whose
/// input is replaced by its dequantized copy.
pub fn activation_targets(graph: &pb::GraphProto) -> HashMap<String, Vec<usize>> {
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let outputs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let mut producer: HashMap<&str, usize> = HashMap::new();
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, node) in graph.node.iter().enumerate() {
        for output in &node.output {
            producer.insert(output, k);
        }
        for input in &node.input {
            consumers.entry(input).or_default().push(k);
        }
    }
    let tail = output_tail(graph, &producer);
    let inside_activations = activation_interiors(graph, &initializers, &consumers);
    let non_float_inputs: HashSet<&str> = graph
        .input
        .iter()
        .filter(|i| elem_type(i) != Some(DataType::Float as i32))
        .map(|i| i.name.as_str())
        .collect();
    let mut targets: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, node) in graph.node.iter().enumerate() {
        if !QUANTIZED_OPS.contains(&node.op_type.as_str()) || tail.contains(&k) {
            continue;
        }
        let data_inputs = match node.op_type.as_str() {
            // the weight and bias are handled as weights; Clip's bounds and PRelu's slope stay
            "Conv" | "Gemm" | "Clip" | "PRelu" => &node.input[..1],
            _ => &node.input[..],
        };
        for input in data_inputs {
            let name = input.as_str();
            if name.is_empty()
                || initializers.contains(name)
                || outputs.contains(name)
                || non_float_inputs.contains(name)
            {
                continue;
            }
            if inside_activations.contains(name) {
                continue;
            }
            let readers = targets.entry(name.to_string()).or_default();
            if !readers.contains(&k) {
                readers.push(k);
            }
        }
    }
    targets
}

/// The tensors inside the activation after a `Conv` or `Gemm`: the layer's output and the
/// intermediate results of the activation ([`ACTIVATION_OPS`] nodes reading only such tensors
/// and initializers), up to (excluding) the activation's result. They stay float, as if the
/// activation were fused into the layer: `Clip` / `Relu` are fused by runtimes, and quantizing
/// SiLU's `x` and `sigmoid(x)` separately compounds their errors through the product.
fn activation_interiors<'g>(
    graph: &'g pb::GraphProto,
    initializers: &HashSet<&str>,
    consumers: &HashMap<&str, Vec<usize>>,
) -> HashSet<&'g str> {
    // the largest set of candidates whose every reader is an activation node reading only
    // candidates and initializers
    let mut inside: HashSet<&str> = HashSet::new();
    for node in &graph.node {
        let candidate = match node.op_type.as_str() {
            "Conv" | "Gemm" => true,
            op => {
                ACTIVATION_OPS.contains(&op)
                    && node.input.iter().any(|i| inside.contains(i.as_str()))
            }
        };
        if candidate {
            inside.extend(node.output.iter().map(String::as_str));
        }
    }
    loop {
        let reads_inside_only = |k: &usize| {
            let reader = &graph.node[*k];
            ACTIVATION_OPS.contains(&reader.op_type.as_str())
                && reader.input.iter().all(|i| {
                    i.is_empty() || initializers.contains(i.as_str()) || inside.contains(i.as_str())
                })
        };
        let leaving: Vec<&str> = inside
            .iter()
            .copied()
            .filter(|t| {
                !consumers
                    .get(t)
                    .is_some_and(|c| c.iter().all(reads_inside_only))
            })
            .collect();
        if leaving.is_empty() {
            return inside;
        }
        for t in leaving {
            inside.remove(t);
        }
    }
}

/// Nodes from which every path to the graph output goes only through [`OUTPUT_TAIL_OPS`].
fn output_tail(graph: &pb::GraphProto, producer: &HashMap<&str, usize>) -> HashSet<usize> {
    let mut tail = HashSet::new();
    let mut stack: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    while let Some(tensor) = stack.pop() {
        let Some(&k) = producer.get(tensor) else {
            continue;
        };
        let node = &graph.node[k];
        if OUTPUT_TAIL_OPS.contains(&node.op_type.as_str()) && tail.insert(k) {
            stack.extend(node.input.iter().map(String::as_str));
        }
    }
    tail
}

fn elem_type(info: &pb::ValueInfoProto) -> Option<i32> {
    match &info.r#type {
        Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(t)),
            ..
        }) => Some(t.elem_type),
        _ => None,
    }
}
