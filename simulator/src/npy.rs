//! Minimal `.npy` reading and writing (format versions 1–3, little-endian numeric dtypes,
//! C order), enough for trajectory files that NumPy loads with `np.load`.

use crate::TrajectoryError;

/// The element data of a `.npy` array.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NpyData {
    /// `<f8`.
    F64(Vec<f64>),
    /// `<f4`.
    F32(Vec<f32>),
    /// `<i8`.
    I64(Vec<i64>),
    /// `<i4`.
    I32(Vec<i32>),
    /// `|u1`.
    U8(Vec<u8>),
    /// Any other dtype, kept as its descriptor (not decoded).
    Other(String),
}

/// A decoded `.npy` array.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Elements in C order.
    pub data: NpyData,
}

impl NpyArray {
    /// Number of elements implied by the shape.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements as `f64` (floats and integers), or `None` for other dtypes.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        Some(match &self.data {
            NpyData::F64(v) => v.clone(),
            NpyData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::U8(v) => v.iter().map(|&x| x as f64).collect(),
            NpyData::Other(_) => return None,
        })
    }

    /// Elements as `i64` (integer dtypes only).
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        Some(match &self.data {
            NpyData::I64(v) => v.clone(),
            NpyData::I32(v) => v.iter().map(|&x| x as i64).collect(),
            NpyData::U8(v) => v.iter().map(|&x| x as i64).collect(),
            _ => return None,
        })
    }

    /// Parses the bytes of a `.npy` file; `name` is used in errors.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Self, TrajectoryError> {
        let bad = |reason: &str| TrajectoryError::BadArray {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err(bad("not a .npy file (magic)"));
        }
        let (header_len, start): (usize, usize) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            _ => return Err(bad("unsupported .npy version")),
        };
        let body = start
            .checked_add(header_len)
            .filter(|&b| b <= bytes.len())
            .ok_or_else(|| bad("truncated header"))?;
        let header =
            std::str::from_utf8(&bytes[start..body]).map_err(|_| bad("header not UTF-8"))?;
        let descr = dict_value(header, "descr").ok_or_else(|| bad("no descr"))?;
        let descr = descr.trim_matches(|c| c == '\'' || c == '"').to_string();
        let fortran = dict_value(header, "fortran_order").ok_or_else(|| bad("no fortran_order"))?;
        if fortran.trim() != "False" {
            return Err(bad("Fortran order is not supported"));
        }
        let shape_text = dict_value(header, "shape").ok_or_else(|| bad("no shape"))?;
        let shape = shape_text
            .trim_matches(|c| c == '(' || c == ')')
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
            .collect::<Result<Vec<_>, _>>()?;
        let count = shape
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .ok_or_else(|| bad("shape overflows"))?;
        let raw = &bytes[body..];
        let need = |size: usize| {
            if count.checked_mul(size).is_some_and(|n| n <= raw.len()) {
                Ok(&raw[..count * size])
            } else {
                Err(bad("truncated data"))
            }
        };
        let data = match descr.as_str() {
            "<f8" => NpyData::F64(
                need(8)?
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            "<f4" => NpyData::F32(
                need(4)?
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
            ),
            "<i8" => NpyData::I64(
                need(8)?
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            "<i4" => NpyData::I32(
                need(4)?
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
            ),
            "|u1" | "<u1" => NpyData::U8(need(1)?.to_vec()),
            _ => NpyData::Other(descr),
        };
        Ok(Self { shape, data })
    }

    /// Serialises as a version 1.0 `.npy` file (`<f8`, `<f4`, `<i8`, `<i4` or `|u1`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let (descr, payload): (&str, Vec<u8>) = match &self.data {
            NpyData::F64(v) => ("<f8", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            NpyData::F32(v) => ("<f4", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            NpyData::I64(v) => ("<i8", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            NpyData::I32(v) => ("<i4", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            NpyData::U8(v) => ("|u1", v.clone()),
            NpyData::Other(_) => ("|u1", Vec::new()),
        };
        let shape = match self.shape.len() {
            0 => "()".to_string(),
            1 => format!("({},)", self.shape[0]),
            _ => format!(
                "({})",
                self.shape
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        // Pad so that the data starts on a 64-byte boundary; the header ends with '\n'.
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - total % 64) % 64));
        header.push('\n');
        let mut out = Vec::with_capacity(10 + header.len() + payload.len());
        out.extend_from_slice(b"\x93NUMPY\x01\x00");
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&payload);
        out
    }
}

/// The raw text of the value of `key` in a NumPy header dict (up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&rest[..=i]);
                }
            }
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for a in [
            NpyArray {
                shape: vec![2, 3],
                data: NpyData::F64(vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]),
            },
            NpyArray {
                shape: vec![3],
                data: NpyData::I64(vec![0, 100, -7]),
            },
            NpyArray {
                shape: vec![],
                data: NpyData::F32(vec![1.5]),
            },
        ] {
            let bytes = a.to_bytes();
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + header_len) % 64, 0, "data starts 64-byte aligned");
            assert_eq!(NpyArray::parse("a", &bytes).unwrap(), a);
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(NpyArray::parse("a", b"hello world, not numpy").is_err());
        let mut b = NpyArray {
            shape: vec![4],
            data: NpyData::F64(vec![0.0; 4]),
        }
        .to_bytes();
        b.truncate(b.len() - 3);
        assert!(NpyArray::parse("a", &b).is_err());
    }
}
