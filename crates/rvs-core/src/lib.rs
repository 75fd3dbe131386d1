//! The LVS domain, sans-IO: services, real servers, schedulers, connection states, rate
//! estimation and the ipvsadm command model. No tokio, no syscalls; time is passed in.

pub mod config;
pub mod conn;
pub mod control;
pub mod est;
pub mod ipvsadm;
pub mod links;
pub mod model;
pub mod sched;
pub mod table;
