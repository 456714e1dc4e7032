//! Constructors for the ONNX protobuf messages (the prost types `tract_onnx::pb` generates
//! from `onnx.proto`): tensors, attributes and typed graph inputs / outputs.

use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};

/// The IR version written (ONNX 1.10+, which every runtime with opset 17 reads).
pub const IR_VERSION: i64 = 8;

/// A dimension of a graph input or output: fixed, or named and free (the batch).
#[derive(Debug, Clone, PartialEq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size such as `N`.
    Named(&'static str),
}

/// A float32 tensor named `name` of shape `dims`, its values stored as raw little-endian bytes.
pub fn f32_tensor(name: &str, dims: &[usize], values: &[f32]) -> pb::TensorProto {
    raw_tensor(
        name,
        dims,
        DataType::Float,
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// An int64 tensor (shapes, split sizes).
pub fn i64_tensor(name: &str, dims: &[usize], values: &[i64]) -> pb::TensorProto {
    raw_tensor(
        name,
        dims,
        DataType::Int64,
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// An int32 tensor (quantized biases).
pub fn i32_tensor(name: &str, dims: &[usize], values: &[i32]) -> pb::TensorProto {
    raw_tensor(
        name,
        dims,
        DataType::Int32,
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// An int8 tensor (quantized weights, zero points).
pub fn i8_tensor(name: &str, dims: &[usize], values: &[i8]) -> pb::TensorProto {
    raw_tensor(
        name,
        dims,
        DataType::Int8,
        values.iter().map(|&v| v as u8).collect(),
    )
}

fn raw_tensor(name: &str, dims: &[usize], data_type: DataType, raw: Vec<u8>) -> pb::TensorProto {
    pb::TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: data_type as i32,
        raw_data: raw,
        ..Default::default()
    }
}

/// The values of a float32 tensor stored as raw bytes or in `float_data`.
pub fn f32_values(tensor: &pb::TensorProto) -> Option<Vec<f32>> {
    if tensor.data_type != DataType::Float as i32 {
        return None;
    }
    if tensor.raw_data.is_empty() {
        return Some(tensor.float_data.clone());
    }
    Some(
        tensor
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

/// The values of an int64 tensor stored as raw bytes or in `int64_data`.
pub fn i64_values(tensor: &pb::TensorProto) -> Option<Vec<i64>> {
    if tensor.data_type != DataType::Int64 as i32 {
        return None;
    }
    if tensor.raw_data.is_empty() {
        return Some(tensor.int64_data.clone());
    }
    Some(
        tensor
            .raw_data
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect(),
    )
}

/// The dimensions of a tensor as sizes.
pub fn dims(tensor: &pb::TensorProto) -> Vec<usize> {
    tensor.dims.iter().map(|&d| d.max(0) as usize).collect()
}

/// An integer attribute.
pub fn attr_int(name: &str, value: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

/// A float attribute.
pub fn attr_float(name: &str, value: f32) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Float as i32,
        f: value,
        ..Default::default()
    }
}

/// An integer-list attribute.
pub fn attr_ints(name: &str, values: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..Default::default()
    }
}

/// A typed graph input or output.
pub fn value_info(name: &str, elem: DataType, shape: &[Dim]) -> pb::ValueInfoProto {
    let dim = shape
        .iter()
        .map(|d| Dimension {
            denotation: String::new(),
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
                Dim::Named(s) => dimension::Value::DimParam((*s).to_string()),
            }),
        })
        .collect();
    pb::ValueInfoProto {
        name: name.to_string(),
        r#type: Some(pb::TypeProto {
            denotation: String::new(),
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
        }),
        ..Default::default()
    }
}

/// A graph output of element type `elem` whose shape is left to the runtime to infer.
pub fn value_info_unshaped(name: &str, elem: DataType) -> pb::ValueInfoProto {
    pb::ValueInfoProto {
        name: name.to_string(),
        r#type: Some(pb::TypeProto {
            denotation: String::new(),
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: elem as i32,
                shape: None,
            })),
        }),
        ..Default::default()
    }
}

/// A metadata entry of the model.
pub fn entry(key: &str, value: &str) -> pb::StringStringEntryProto {
    pb::StringStringEntryProto {
        key: key.to_string(),
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_tensors_round_trip_through_raw_bytes() {
        let t = f32_tensor("w", &[2, 2], &[1.0, -2.5, 3.25, f32::MIN_POSITIVE]);
        assert_eq!(dims(&t), vec![2, 2]);
        assert_eq!(
            f32_values(&t).unwrap(),
            vec![1.0, -2.5, 3.25, f32::MIN_POSITIVE]
        );
        assert!(f32_values(&i64_tensor("s", &[1], &[4])).is_none());
    }

    #[test]
    fn int8_tensors_keep_their_sign_bits() {
        let t = i8_tensor("q", &[3], &[-128, 0, 127]);
        assert_eq!(t.raw_data, vec![0x80, 0x00, 0x7f]);
        assert_eq!(t.data_type, DataType::Int8 as i32);
    }
}
