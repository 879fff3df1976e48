//! Measurements on real PostgreSQL (`#[ignore]`d: run with `--ignored --nocapture`): what a
//! single insert costs from the standby's node, forwarded with the LSN wait
//! (read-your-writes), forwarded without it (`Consistency::Eventual`), and as users do
//! without forwarding: a direct insert over a connection to the primary. All on loopback:
//! the network adds no latency here, so the figures show the machinery's own cost.
//! Variants rotate in each round (ABC, CBA, ...); each round times 100 inserts per variant.

use std::time::{Duration, Instant};

use blog_example::entities::tag;
use repo_core::Consistency;
use repo_tests::postgres::PgCluster;
use repo_tests::postgres::nodes::PgNodes;
use sea_orm::{ActiveModelTrait, Set};

const ROUNDS: usize = 6;
const PER_ROUND: usize = 100;

#[derive(Clone, Copy, Debug)]
enum Variant {
    ForwardedReadYourWrites,
    ForwardedEventual,
    DirectOnPrimary,
}

fn new_tag(name: String) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name),
        ..Default::default()
    }
}

#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn forwarded_insert_costs_on_postgres() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    let rt = repo_tests::runtime();
    rt.block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let repo = nodes.standby.repo();
        let variants = [
            Variant::ForwardedReadYourWrites,
            Variant::ForwardedEventual,
            Variant::DirectOnPrimary,
        ];
        let mut per_op: Vec<(Variant, Vec<Duration>)> =
            variants.iter().map(|v| (*v, Vec::new())).collect();
        let mut n = 0;
        for round in 0..ROUNDS {
            let mut order = variants.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            order.rotate_left(round / 2 % variants.len());
            for variant in order {
                let started = Instant::now();
                for _ in 0..PER_ROUND {
                    n += 1;
                    let am = new_tag(format!("cost-{n}"));
                    match variant {
                        Variant::ForwardedReadYourWrites => {
                            repo.insert(am).await.expect("insert");
                        }
                        Variant::ForwardedEventual => {
                            repo.insert(am)
                                .consistency(Consistency::Eventual)
                                .await
                                .expect("insert");
                        }
                        Variant::DirectOnPrimary => {
                            am.insert(&nodes.primary_db).await.expect("insert");
                        }
                    }
                }
                let each = started.elapsed() / PER_ROUND as u32;
                if let Some((_, times)) = per_op.iter_mut().find(|(v, _)| *v as u8 == variant as u8)
                {
                    times.push(each);
                }
            }
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("load average: {}", load.trim());
        for (variant, times) in &per_op {
            let min = times.iter().min().copied().unwrap_or_default();
            let max = times.iter().max().copied().unwrap_or_default();
            println!(
                "{variant:?}: per insert {min:?} – {max:?} over {ROUNDS} rounds of {PER_ROUND}"
            );
        }
        nodes.shutdown().await;
    });
}
