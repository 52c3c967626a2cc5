//! Prints the one-line error for each program given as an argument file (a development aid).
fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let r = ansatz_grammar::parse_bytes(&bytes)
            .and_then(|p| ansatz_grammar::check(&p, &ansatz_grammar::Signature::elastic()));
        match r {
            Ok(_) => println!("{path}: OK"),
            Err(e) => println!("{path}: {}\n{}", e, e.render()),
        }
    }
}
