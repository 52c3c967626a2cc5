//! The canonical form of a law and its hash: the identity of a law for deduplication.
//!
//! The form is the simplified, normalised law written in the law language with
//! parameters renamed `p0`, `p1`, ... in order of first appearance and shared
//! subexpressions bound to `t0`, `t1`, ...; parameter values are not part of it. The hash
//! is 64-bit FNV-1a over the text of the form: the same on every run, thread and
//! platform.

/// The identity of a law: its canonical form, the form's hash, and its complexity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Canonical {
    /// FNV-1a (64-bit) hash of `form`.
    pub hash: u64,
    /// The canonical form: bindings and `return`, parameters named `p0`, `p1`, ...
    pub form: String,
    /// The smallest complexity found for the law (see [`crate::egraph::complexity`]):
    /// that of the canonical form, of the simplified law, or of the law as written.
    pub complexity: u64,
}

impl Canonical {
    /// A canonical form from its text.
    pub(crate) fn new(form: String, complexity: u64) -> Self {
        Canonical {
            hash: fnv1a(form.as_bytes()),
            form,
            complexity,
        }
    }

    /// The hash as 16 hexadecimal digits (for ledgers and messages).
    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write_bytes(bytes);
    h.finish()
}

/// An incremental 64-bit FNV-1a hasher (also a `fmt::Write` sink).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(FNV_OFFSET)
    }
}

impl Fnv {
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    pub(crate) fn write_u64(&mut self, v: u64) {
        self.write_bytes(&v.to_le_bytes());
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
