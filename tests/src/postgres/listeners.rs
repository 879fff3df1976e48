//! Forwarding listeners for test nodes on PostgreSQL, bound before the nodes start so that
//! every node's `Endpoints` can name every other's address.

use repo_litefs::Endpoints;
use tokio::net::TcpListener;

/// `n` listeners on 127.0.0.1 port 0 and the endpoints `pg-1`..`pg-n` naming them.
pub async fn listeners(n: usize) -> (Vec<TcpListener>, Endpoints) {
    let mut all = Vec::new();
    let mut names = Vec::new();
    for i in 1..=n {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        names.push((
            format!("pg-{i}"),
            format!("http://{}", l.local_addr().expect("addr")),
        ));
        all.push(l);
    }
    (all, Endpoints::map(names))
}
