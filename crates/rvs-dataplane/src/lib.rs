//! The XDP data plane: BPF programs, their loader and typed maps.
