//! Network-namespace topologies for the lab and the end-to-end tests.
