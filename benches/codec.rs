//! Decoding throughput of the AMI codec on the busiest recorded transcript. (Lands with the AMI
//! client issue.)
fn main() {}
