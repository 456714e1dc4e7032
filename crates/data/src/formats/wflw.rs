//! WFLW annotation lists. `list_98pt_rect_attr_*.txt` lines have 207 fields: 98 `x y` pairs,
//! the detection rectangle `x_min y_min x_max y_max`, six 0/1 attribute flags (pose, expression,
//! illumination, make-up, occlusion, blur) and the image name. The test-subset lists
//! (`list_98pt_test_<attribute>.txt`) have 197 fields (points and name); the attribute in the
//! file name is set for every line.

use super::ParseContext;
use super::numbers::finite;
use crate::error::DataError;
use crate::sample::{Sample, WflwAttributes};
use std::path::Path;

const POINTS: usize = 98;
const FULL_FIELDS: usize = 2 * POINTS + 4 + 6 + 1;
const SUBSET_FIELDS: usize = 2 * POINTS + 1;

/// Parses one list line.
pub(crate) fn parse_line(
    list: &Path,
    line: usize,
    text: &str,
    ctx: &ParseContext,
) -> Result<Sample, DataError> {
    if ctx.num_points != POINTS {
        return Err(DataError::annotation(
            list,
            Some(line),
            format!(
                "WFLW lines have {POINTS} points but the landmark scheme has {}",
                ctx.num_points
            ),
        ));
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != FULL_FIELDS && fields.len() != SUBSET_FIELDS {
        return Err(DataError::annotation(
            list,
            Some(line),
            format!(
                "expected {FULL_FIELDS} fields (points, rect, 6 attributes, image) or \
                 {SUBSET_FIELDS} (points, image), found {}",
                fields.len()
            ),
        ));
    }
    let nums = |range: std::ops::Range<usize>| -> Result<Vec<f32>, DataError> {
        fields[range]
            .iter()
            .map(|f| finite(f, list, line))
            .collect()
    };
    let coords = nums(0..2 * POINTS)?;
    let landmarks = coords.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
    let name = fields[fields.len() - 1];
    let mut sample = super::sample(ctx.root.join(name), Some(list.to_path_buf()), landmarks);
    if fields.len() == FULL_FIELDS {
        let r = nums(2 * POINTS..2 * POINTS + 4)?;
        sample.face_rect = Some([r[0], r[1], r[2], r[3]]);
        let mut flags = [None; 6];
        for (i, f) in fields[2 * POINTS + 4..2 * POINTS + 10].iter().enumerate() {
            flags[i] = Some(match *f {
                "0" => false,
                "1" => true,
                other => {
                    return Err(DataError::annotation(
                        list,
                        Some(line),
                        format!(
                            "attribute `{}` must be 0 or 1, found `{other}`",
                            WflwAttributes::NAMES[i]
                        ),
                    ));
                }
            });
        }
        sample.attributes = Some(WflwAttributes::from_flags(flags));
    } else {
        sample.attributes = subset_attribute(list);
    }
    Ok(sample)
}

/// `list_98pt_test_makeup.txt` -> make-up set, the other attributes unknown.
fn subset_attribute(list: &Path) -> Option<WflwAttributes> {
    let stem = list.file_stem()?.to_str()?;
    let last = stem.rsplit('_').next()?;
    let name = if last == "largepose" { "pose" } else { last };
    let i = WflwAttributes::NAMES.iter().position(|n| *n == name)?;
    let mut flags = [None; 6];
    flags[i] = Some(true);
    Some(WflwAttributes::from_flags(flags))
}
