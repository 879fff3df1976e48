//! The PostgreSQL harness itself: a primary and a streaming standby start, the standby
//! replays the primary's writes and refuses its own, and a promotion makes it writable.

use repo_tests::postgres::PgCluster;

#[test]
fn a_standby_streams_refuses_writes_and_takes_them_once_promoted() {
    let Some(mut cluster) = PgCluster::start_or_skip() else {
        return;
    };
    assert_eq!(
        cluster
            .standby
            .psql("SELECT pg_is_in_recovery()")
            .expect("ask"),
        "t"
    );
    assert_eq!(
        cluster
            .primary
            .psql("SELECT pg_is_in_recovery()")
            .expect("ask"),
        "f"
    );
    cluster
        .primary
        .psql("CREATE TABLE t (id int primary key)")
        .expect("create");
    cluster
        .primary
        .psql("INSERT INTO t VALUES (1)")
        .expect("insert");
    let target = cluster
        .primary
        .psql("SELECT pg_current_wal_lsn()")
        .expect("lsn");
    // Bounded wait for replay, in the database itself.
    let caught_up = cluster
        .standby
        .psql(&format!(
            "DO $$ BEGIN FOR i IN 1..600 LOOP \
               EXIT WHEN pg_last_wal_replay_lsn() >= '{target}'::pg_lsn; \
               PERFORM pg_sleep(0.05); END LOOP; END $$; \
             SELECT count(*) FROM t"
        ))
        .expect("read on the standby");
    assert_eq!(caught_up, "1");
    let refused = cluster
        .standby
        .psql("INSERT INTO t VALUES (2)")
        .expect_err("a standby refuses writes");
    assert!(refused.to_string().contains("read-only"), "{refused}");
    cluster.standby.promote().expect("promote");
    assert_eq!(
        cluster
            .standby
            .psql("SELECT pg_is_in_recovery()")
            .expect("ask"),
        "f"
    );
    cluster
        .standby
        .psql("INSERT INTO t VALUES (2)")
        .expect("writes once promoted");
}
