#![no_std]
//! Zero-copy packet views and `Repr` types for the protocols rvs handles.
