//! Parsing language-model output into sequences.

use ansatz_ehrlich::parse::{MAX_INPUT_BYTES, to_letters};
use ansatz_ehrlich::{ParseError, parse_sequence};

#[test]
fn json_list() {
    assert_eq!(
        parse_sequence(" [3, 16, 15, 11]\n", 4, 32),
        Ok(vec![3, 16, 15, 11])
    );
}

#[test]
fn letters() {
    assert_eq!(
        parse_sequence("ABCD DCBA", 8, 4),
        Ok(vec![0, 1, 2, 3, 3, 2, 1, 0])
    );
    let x = vec![0, 31, 26, 5];
    let s = to_letters(&x).expect("v <= 62");
    assert_eq!(s, "AfaF");
    assert_eq!(parse_sequence(&s, 4, 32), Ok(x));
}

#[test]
fn errors() {
    use ParseError::*;
    assert_eq!(
        parse_sequence("[1, 2]", 3, 4),
        Err(WrongLength {
            got: 2,
            expected: 3
        })
    );
    assert_eq!(
        parse_sequence("[1, 9]", 2, 4),
        Err(OutOfRange {
            position: 1,
            value: 9,
            num_states: 4
        })
    );
    assert_eq!(
        parse_sequence("[1, [2]]", 2, 4),
        Err(Nested { position: 1 })
    );
    assert!(matches!(
        parse_sequence("[1, -2]", 2, 4),
        Err(NotAnInteger { position: 1, .. })
    ));
    assert!(matches!(
        parse_sequence("[1, 2.5]", 2, 4),
        Err(NotAnInteger { position: 1, .. })
    ));
    assert!(matches!(
        parse_sequence("[1, \"a\"]", 2, 4),
        Err(NotAnInteger { .. })
    ));
    assert!(matches!(parse_sequence("[1, 2", 2, 4), Err(InvalidJson(_))));
    assert!(matches!(
        parse_sequence("[1, 2] and more", 2, 4),
        Err(InvalidJson(_))
    ));
    assert!(matches!(
        parse_sequence("Here is my answer", 2, 4),
        Err(UnknownLetter {
            position: 0,
            ch: 'H',
            ..
        })
    ));
    assert_eq!(parse_sequence("  \n", 2, 4), Err(Empty));
    assert!(matches!(
        parse_sequence("AB", 2, 100),
        Err(AlphabetTooSmall { .. })
    ));
    assert!(matches!(
        parse_sequence("[1, 99999999999999999999999]", 2, 4),
        Err(NotAnInteger { .. }) | Err(InvalidJson(_)) | Err(OutOfRange { .. })
    ));
    let big = "A".repeat(MAX_INPUT_BYTES + 1);
    assert!(matches!(parse_sequence(&big, 2, 4), Err(TooLarge { .. })));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_sequence(&deep, 2, 4).is_err());
    let msg = parse_sequence("[1, 9]", 2, 4)
        .expect_err("out of range")
        .to_string();
    assert!(msg.contains("out of range 0..4"), "{msg}");
}
