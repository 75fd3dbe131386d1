//! End-to-end suites in network namespaces (run as root).
