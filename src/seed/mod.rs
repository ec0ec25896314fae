//! Filling an archive: the demo archive for a first look, and synthetic
//! postmortems in bulk for benchmarks.

pub mod demo;
pub mod synthetic;
