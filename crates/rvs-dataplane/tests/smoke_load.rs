use rvs_dataplane::{Dataplane, DataplaneOptions};

mod common;

#[test]
fn loads_and_sweeps() {
    require_root!();
    let opts = DataplaneOptions {
        bpffs: "/sys/fs/bpf".into(),
        instance: format!("test-smoke-{}", std::process::id()),
        conn_max: 1024,
    };
    let dp = match Dataplane::load(&opts) {
        Ok(dp) => dp,
        Err(e) => panic!("load failed: {e}\n{e:?}"),
    };
    dp.sweep().expect("sweep");
    let frame = [0u8; 64];
    let r = aya::programs::TestRun::test_run(
        dp.director().expect("prog"),
        aya::programs::TestRunOptions { data_in: Some(&frame), ..Default::default() },
    )
    .expect("run");
    assert_eq!(r.return_value, 2);
    dp.teardown();
}
