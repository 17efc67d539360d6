//! The evidence upload benchmark (being written).
fn main() {}
