//! [`GraphBuilder`]: appends ONNX nodes and initializers with unique, scoped names
//! (`/backbone/conv21/conv1/Conv`, as PyTorch's exporter names them) and assembles the model.

use crate::proto;
use std::collections::{HashMap, HashSet};
use tract_onnx::pb;

/// An ONNX graph under construction, nodes in topological order.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    nodes: Vec<pb::NodeProto>,
    initializers: Vec<pb::TensorProto>,
    used: HashSet<String>,
    scalars: HashMap<u32, String>,
}

impl GraphBuilder {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// `base`, or `base_1`, `base_2`, ... when taken.
    fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 0;
        while self.used.contains(&name) {
            k += 1;
            name = format!("{base}_{k}");
        }
        self.used.insert(name.clone());
        name
    }

    /// Adds a float32 initializer; returns its (unique) name.
    pub fn weight(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        let name = self.unique(name);
        self.initializers
            .push(proto::f32_tensor(&name, dims, values));
        name
    }

    /// Adds an int64 initializer; returns its (unique) name.
    pub fn ints(&mut self, name: &str, values: &[i64]) -> String {
        let name = self.unique(name);
        self.initializers
            .push(proto::i64_tensor(&name, &[values.len()], values));
        name
    }

    /// A float32 scalar initializer, shared by every use of the same value.
    pub fn scalar(&mut self, value: f32) -> String {
        if let Some(name) = self.scalars.get(&value.to_bits()) {
            return name.clone();
        }
        let name = self.unique(&format!("const_{value}"));
        self.initializers
            .push(proto::f32_tensor(&name, &[], &[value]));
        self.scalars.insert(value.to_bits(), name.clone());
        name
    }

    /// Appends an `op` node named `<scope>/<op>` with one output; returns the output's name.
    pub fn op(
        &mut self,
        scope: &str,
        op: &str,
        inputs: &[&str],
        attributes: Vec<pb::AttributeProto>,
    ) -> String {
        self.op_n(scope, op, inputs, attributes, 1).remove(0)
    }

    /// Appends an `op` node with `outputs` outputs; returns their names.
    pub fn op_n(
        &mut self,
        scope: &str,
        op: &str,
        inputs: &[&str],
        attributes: Vec<pb::AttributeProto>,
        outputs: usize,
    ) -> Vec<String> {
        let name = self.unique(&format!("{scope}/{op}"));
        let output: Vec<String> = (0..outputs)
            .map(|k| self.unique(&format!("{name}_output_{k}")))
            .collect();
        self.nodes.push(pb::NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: output.clone(),
            name,
            op_type: op.to_string(),
            attribute: attributes,
            ..Default::default()
        });
        output
    }

    /// Renames the tensor `from` to `to` (the graph output) wherever it appears.
    pub fn rename(&mut self, from: &str, to: &str) {
        for node in &mut self.nodes {
            for name in node.output.iter_mut().chain(node.input.iter_mut()) {
                if name == from {
                    *name = to.to_string();
                }
            }
        }
        self.used.insert(to.to_string());
    }

    /// The graph with its typed input and output.
    pub fn finish(
        self,
        name: &str,
        input: pb::ValueInfoProto,
        output: pb::ValueInfoProto,
    ) -> pb::GraphProto {
        pb::GraphProto {
            node: self.nodes,
            name: name.to_string(),
            initializer: self.initializers,
            input: vec![input],
            output: vec![output],
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_scalars_shared() {
        let mut g = GraphBuilder::new();
        let a = g.op("/block", "Relu", &["x"], vec![]);
        let b = g.op("/block", "Relu", &[&a], vec![]);
        assert_eq!(a, "/block/Relu_output_0");
        assert_eq!(b, "/block/Relu_1_output_0");
        assert_eq!(g.scalar(6.0), g.scalar(6.0));
        assert_ne!(g.scalar(6.0), g.scalar(0.0));
        g.rename(&a, "hidden");
        g.rename(&b, "output");
        let graph = g.finish(
            "g",
            pb::ValueInfoProto::default(),
            pb::ValueInfoProto::default(),
        );
        assert_eq!(graph.node.len(), 2);
        assert_eq!(graph.node[1].input, vec!["hidden".to_string()]);
        assert_eq!(graph.node[1].output, vec!["output".to_string()]);
        assert_eq!(graph.initializer.len(), 2);
    }
}
