//! Fuzz target: any byte string is parsed without panicking; a parsed program prints
//! and parses back to itself; a checked program evaluates without panicking.
#![no_main]

use ansatz_grammar::{Signature, check, parse, parse_bytes};
use libfuzzer_sys::fuzz_target;
use nalgebra::Matrix3;

fuzz_target!(|data: &[u8]| {
    let Ok(program) = parse_bytes(data) else {
        return;
    };
    let text = program.to_string();
    let back = parse(&text).expect("the canonical form parses");
    assert_eq!(back, program, "round trip of {text}");
    if let Ok(checked) = check(&program, &Signature::elastic()) {
        let c = checked.into_compiled();
        let f = Matrix3::new(1.1, 0.2, 0.0, -0.1, 0.9, 0.05, 0.0, 0.1, 1.05);
        let _ = c.eval_mat3(&f, c.defaults(), &mut c.scratch());
    }
});
