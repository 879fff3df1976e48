//! An outsider's application on the PostgreSQL backend: an inventory with orders (`uuid`
//! keys, `timestamptz`, `numeric`, `jsonb`, an enum, a foreign key, a CHECK constraint and
//! a unique index), written from the standby's node (forwarded) and compared with the same
//! call on the primary (local), through the public API only (README, docs/BACKENDS.md).

use std::str::FromStr;
use std::time::Duration;

use repo_core::{
    Action, Durability, IdempotencyKey, Multi, NamedTransaction, Operation, RejectReason,
    RepoError, Request,
};
use repo_litefs::durability::{Candidates, DurabilityConfig};
use repo_litefs::{ClusterSecret, Endpoints, Node, NodeConfig, OnLag};
use repo_postgres::RoleConfig;
use repo_tests::postgres::PgCluster;
use repo_tests::postgres::listeners::listeners;
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QuerySelect, RuntimeErr,
    Set, Statement, TransactionSession, TransactionTrait, Value,
};
use serde::{Deserialize, Serialize};

mod product {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "products")]
    pub(crate) struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub sku: String,
        pub name: String,
        pub price: Decimal,
        pub attrs: Json,
        pub stock: i32,
        pub created_at: DateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {
        #[sea_orm(has_many = "super::order::Entity")]
        Order,
    }

    impl Related<super::order::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Order.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "order_status")]
    pub enum Status {
        #[sea_orm(string_value = "pending")]
        Pending,
        #[sea_orm(string_value = "paid")]
        Paid,
        #[sea_orm(string_value = "shipped")]
        Shipped,
    }

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub(crate) struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub product_id: Uuid,
        pub qty: i32,
        pub status: Status,
        pub placed_at: DateTimeWithTimeZone,
        pub total: Option<Decimal>,
        pub note: Option<String>,
        pub weight: Option<f64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {
        #[sea_orm(
            belongs_to = "super::product::Entity",
            from = "Column::ProductId",
            to = "super::product::Column::Id"
        )]
        Product,
    }

    impl Related<super::product::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Product.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

use order::Status;

const SCHEMA: [&str; 6] = [
    "CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped')",
    "CREATE TABLE products (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), sku text NOT NULL, \
     name text NOT NULL, price numeric(12,2) NOT NULL CHECK (price >= 0), \
     attrs jsonb NOT NULL DEFAULT '{}', stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0), \
     created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE UNIQUE INDEX products_sku ON products (sku)",
    "CREATE TABLE orders (id uuid PRIMARY KEY, product_id uuid NOT NULL REFERENCES products(id), \
     qty integer NOT NULL CHECK (qty > 0), status order_status NOT NULL, \
     placed_at timestamptz NOT NULL, total numeric, note text, weight double precision)",
    "CREATE SEQUENCE order_numbers",
    "CREATE TABLE audit (id bigserial PRIMARY KEY, what text NOT NULL, n bigint)",
];

/// Places an order and takes it from the stock (CHECK stock >= 0 fails it).
#[derive(Debug)]
struct PlaceOrder;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OrderArgs {
    id: uuid::Uuid,
    product: uuid::Uuid,
    qty: i32,
}

impl NamedTransaction for PlaceOrder {
    const NAME: &'static str = "outsider.place_order.v1";
    type Args = OrderArgs;
    type Output = i32;

    async fn run(txn: &DatabaseTransaction, args: OrderArgs) -> Result<i32, DbErr> {
        order::ActiveModel {
            id: Set(args.id),
            product_id: Set(args.product),
            qty: Set(args.qty),
            status: Set(Status::Pending),
            placed_at: Set(at("2026-11-30T10:00:00+01:00")),
            total: Set(None),
            note: Set(Some("named".into())),
            weight: Set(None),
        }
        .insert(txn)
        .await?;
        product::Entity::update_many()
            .col_expr(
                product::Column::Stock,
                Expr::col(product::Column::Stock).sub(args.qty),
            )
            .filter(product::Column::Id.eq(args.product))
            .exec(txn)
            .await?;
        let left = product::Entity::find_by_id(args.product)
            .one(txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("product".into()))?;
        Ok(left.stock)
    }
}

fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).expect("timestamp")
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn new_product(sku: &str, stock: i32) -> product::ActiveModel {
    product::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        sku: Set(sku.to_owned()),
        name: Set(format!("Product {sku} — ü ✓")),
        price: Set(dec("1234567890.99")),
        attrs: Set(
            serde_json::json!({"colour": "red", "sizes": [1, 2.5, null], "n": {"deep": true}}),
        ),
        stock: Set(stock),
        created_at: Set(at("2026-11-30T04:05:06.789012+02:00")),
    }
}

fn new_order(product: uuid::Uuid, qty: i32) -> order::ActiveModel {
    order::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        product_id: Set(product),
        qty: Set(qty),
        status: Set(Status::Paid),
        placed_at: Set(at("2026-11-30T23:59:59.999999-05:00")),
        total: Set(Some(dec("-0.000000000000000000000001"))),
        note: Set(None),
        weight: Set(Some(0.1)),
    }
}

fn config(db: &DatabaseConnection, endpoints: &Endpoints, name: &str) -> NodeConfig {
    let secret = ClusterSecret::new(repo_tests::cluster::SECRET).expect("secret");
    repo_postgres::node_config(
        db.clone(),
        endpoints.clone(),
        secret,
        RoleConfig::new(name, "pg-1").interval(Duration::from_millis(100)),
    )
    .repo(|b| {
        b.entity::<product::Entity>()
            .entity::<order::Entity>()
            .transaction::<PlaceOrder>()
    })
    .read_your_writes(Duration::from_secs(5), OnLag::Fail)
    .startup_wait(Duration::from_secs(30))
}

struct App {
    primary: Node,
    standby: Node,
    primary_db: DatabaseConnection,
    standby_db: DatabaseConnection,
}

/// Runs `body` on a fresh primary + standby with the inventory schema and two nodes.
fn with_app<F, Fut>(durability: bool, body: F)
where
    F: FnOnce(App) -> Fut,
    Fut: std::future::Future<Output = App>,
{
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    for ddl in SCHEMA {
        cluster.primary.psql(ddl).expect("schema");
    }
    cluster
        .wait_replayed(Duration::from_secs(30))
        .expect("replicated");
    let rt = repo_tests::runtime();
    rt.block_on(async {
        let timeout = Duration::from_secs(5);
        let primary_db = repo_postgres::connect(&cluster.primary.url(), timeout)
            .await
            .expect("primary");
        let standby_db = repo_postgres::connect(&cluster.standby.url(), timeout)
            .await
            .expect("standby");
        let (mut ls, endpoints) = listeners(2).await;
        let l2 = ls.pop().expect("l2");
        let l1 = ls.pop().expect("l1");
        let with = |c: NodeConfig| {
            if durability {
                c.durability(
                    DurabilityConfig::new(Candidates::named(["pg-1", "pg-2"]))
                        .wait(Duration::from_secs(10)),
                )
            } else {
                c
            }
        };
        let primary = Node::start(with(config(&primary_db, &endpoints, "pg-1")), l1)
            .await
            .expect("pg-1");
        let standby = Node::start(with(config(&standby_db, &endpoints, "pg-2")), l2)
            .await
            .expect("pg-2");
        let app = body(App {
            primary,
            standby,
            primary_db,
            standby_db,
        })
        .await;
        app.standby.shutdown().await;
        app.primary.shutdown().await;
    });
}

async fn scalar(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index(0)
        .expect("i64")
}

fn db_err(e: &RepoError) -> Option<&DbErr> {
    match e {
        RepoError::Database(e) | RepoError::TransactionFailed { source: e, .. } => Some(e),
        RepoError::MultiStep { source, .. } => db_err(source),
        _ => None,
    }
}

/// The SQLSTATE of a database error, as sqlx reports it.
fn sqlstate(e: &DbErr) -> Option<String> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

/// The text of an error without PostgreSQL's ` at line N` (documented difference).
fn text(e: &DbErr) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[test]
fn typed_writes_from_the_standby_answer_as_on_the_primary() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let loc = app.primary.repo();
        // Insert with RETURNING, every column type.
        let a = new_product("A-1", 10);
        let b = new_product("B-1", 10);
        let fa = fwd.insert(a.clone()).await.expect("forwarded insert");
        let la = loc.insert(b.clone()).await.expect("local insert");
        assert_eq!(fa.price, la.price);
        assert_eq!(fa.attrs, la.attrs);
        assert_eq!(fa.created_at, la.created_at);
        assert_eq!(fa.name.replace("A-1", "B-1"), la.name);
        // Read-your-writes on the standby, at once.
        let back = fwd
            .get::<product::Entity>(fa.id)
            .await
            .expect("read")
            .expect("the row is on the standby at once");
        assert_eq!(back, fa);
        // Orders: enum, NULLs, tiny numeric, f64.
        let fo = fwd
            .insert(new_order(fa.id, 2))
            .await
            .expect("forwarded order");
        let lo = loc.insert(new_order(la.id, 2)).await.expect("local order");
        assert_eq!(
            (
                fo.status,
                fo.total,
                fo.note.clone(),
                fo.weight,
                fo.placed_at
            ),
            (
                lo.status,
                lo.total,
                lo.note.clone(),
                lo.weight,
                lo.placed_at
            )
        );
        // Update (typed) with RETURNING.
        let mut edit: product::ActiveModel = fa.clone().into();
        edit.attrs = Set(serde_json::json!({"edited": "yes \u{1F600}"}));
        edit.price = Set(dec("0.01"));
        let fe = fwd.update(edit).await.expect("forwarded update");
        assert_eq!(fe.price, dec("0.01"));
        assert_eq!(fe.attrs, serde_json::json!({"edited": "yes \u{1F600}"}));
        // insert_many with RETURNING.
        let many: Vec<_> = (0..5).map(|i| new_product(&format!("M-{i}"), i)).collect();
        let rows = fwd
            .insert_all(product::Entity::insert_many(many))
            .returning()
            .await
            .expect("forwarded insert_many");
        assert_eq!(rows.len(), 5);
        // update_many with an expression, RETURNING.
        let updated = fwd
            .update_all(
                product::Entity::update_many()
                    .col_expr(
                        product::Column::Stock,
                        Expr::col(product::Column::Stock).add(100),
                    )
                    .filter(product::Column::Sku.like("M-%")),
            )
            .returning()
            .await
            .expect("forwarded update_many");
        let mut stocks: Vec<i32> = updated.iter().map(|p| p.stock).collect();
        stocks.sort_unstable();
        assert_eq!(stocks, vec![100, 101, 102, 103, 104]);
        // delete_many, RETURNING.
        let deleted = fwd
            .delete_all(product::Entity::delete_many().filter(product::Column::Sku.eq("M-4")))
            .returning()
            .await
            .expect("forwarded delete_many");
        assert_eq!(deleted.len(), 1);
        assert_eq!(deleted[0].stock, 104);
        assert_eq!(
            fwd.count(product::Entity::find()).await.expect("count"),
            6,
            "read-your-writes after the delete"
        );
        // insert_or_update: the primary key is set, so sea-orm's save() updates.
        let mut save: product::ActiveModel = fe.clone().into();
        save.stock = Set(77);
        let saved = fwd
            .insert_or_update(save)
            .await
            .expect("forwarded insert_or_update");
        assert_eq!(saved.stock, 77);
        // ON CONFLICT DO UPDATE through insert_all.
        let conflict = product::Entity::insert_many([new_product("A-1", 1)]).on_conflict(
            sea_orm::sea_query::OnConflict::column(product::Column::Sku)
                .update_column(product::Column::Stock)
                .to_owned(),
        );
        fwd.insert_all(conflict).await.expect("forwarded upsert");
        let a1 = fwd
            .get_by::<product::Entity>(product::Column::Sku.eq("A-1"))
            .await
            .expect("read")
            .expect("A-1");
        assert_eq!((a1.id, a1.stock), (fa.id, 1));
        // find_also_related on the standby after the forwarded writes.
        let pairs = order::Entity::find()
            .find_also_related(product::Entity)
            .all(fwd)
            .await
            .expect("find_also_related");
        assert_eq!(pairs.len(), 2);
        assert!(pairs.iter().all(|(_, p)| p.is_some()));
        // Named transaction from the standby: returns, then fails on the CHECK.
        let left = fwd
            .transaction::<PlaceOrder>(OrderArgs {
                id: uuid::Uuid::new_v4(),
                product: fa.id,
                qty: 1,
            })
            .await
            .expect("named transaction");
        assert_eq!(left, 0);
        let failed = fwd
            .transaction::<PlaceOrder>(OrderArgs {
                id: uuid::Uuid::new_v4(),
                product: fa.id,
                qty: 1,
            })
            .await
            .expect_err("stock would go negative");
        let local_failed = loc
            .transaction::<PlaceOrder>(OrderArgs {
                id: uuid::Uuid::new_v4(),
                product: fa.id,
                qty: 1,
            })
            .await
            .expect_err("the same on the primary");
        let (fe_, le_) = (
            db_err(&failed).expect("a db error"),
            db_err(&local_failed).expect("a db error"),
        );
        assert_eq!(sqlstate(fe_).as_deref(), Some("23514"), "{failed}");
        assert_eq!(sqlstate(fe_), sqlstate(le_));
        assert_eq!(text(fe_), text(le_));
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM orders").await,
            3,
            "the failed transactions wrote nothing"
        );
        // Multi from the standby: all or nothing.
        let ok = fwd
            .multi(
                Multi::new()
                    .insert("p", new_product("MULTI-1", 3))
                    .update_all(
                        "bump",
                        product::Entity::update_many()
                            .col_expr(product::Column::Stock, Expr::value(5))
                            .filter(product::Column::Sku.eq("MULTI-1")),
                    ),
            )
            .await
            .expect("multi");
        assert_eq!(ok.rows_affected("bump").expect("bump"), 1);
        let bad = fwd
            .multi(
                Multi::new()
                    .insert("p", new_product("MULTI-2", 3))
                    .insert("dup", new_product("MULTI-2", 3)),
            )
            .await
            .expect_err("duplicate sku");
        assert!(
            matches!(&bad, RepoError::MultiStep { step, .. } if step == "dup"),
            "{bad:?}"
        );
        assert!(matches!(
            bad.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ));
        assert_eq!(
            scalar(
                &app.primary_db,
                "SELECT count(*) FROM products WHERE sku = 'MULTI-2'"
            )
            .await,
            0
        );
        app
    });
}

async fn violation(
    repo_like: &impl ConnectionTrait,
    fwd: &repo_core::Repo,
    sql: &str,
) -> (DbErr, RepoError) {
    let local = repo_like
        .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect_err("local violation");
    let forwarded = fwd
        .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect_err("forwarded violation");
    (local, RepoError::Database(forwarded))
}

#[test]
fn constraint_violations_from_the_standby_match_local_ones() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let p = app
            .primary
            .repo()
            .insert(new_product("U-1", 1))
            .await
            .expect("seed");
        app.primary
            .repo()
            .insert(new_order(p.id, 1))
            .await
            .expect("seed order");
        let cases = [
            (
                "23505",
                "INSERT INTO products (sku, name, price) VALUES ('U-1', 'x', 1)".to_owned(),
            ),
            (
                "23503",
                format!(
                    "INSERT INTO orders (id, product_id, qty, status, placed_at) VALUES \
                     (gen_random_uuid(), '{}', 1, 'paid', now())",
                    uuid::Uuid::nil()
                ),
            ),
            (
                "23503",
                format!("DELETE FROM products WHERE id = '{}'", p.id),
            ),
            (
                "23514",
                "INSERT INTO products (sku, name, price) VALUES ('NEG', 'x', -1)".to_owned(),
            ),
            (
                "23502",
                "INSERT INTO products (sku, name, price) VALUES ('NULL', NULL, 1)".to_owned(),
            ),
            (
                "22P02",
                "INSERT INTO orders (id, product_id, qty, status, placed_at) VALUES \
                 (gen_random_uuid(), gen_random_uuid(), 1, 'lost', now())"
                    .to_owned(),
            ),
        ];
        for (code, sql) in cases {
            let (local, forwarded) = violation(&app.primary_db, fwd, &sql).await;
            let f = db_err(&forwarded).expect("db error");
            assert_eq!(sqlstate(&local).as_deref(), Some(code), "{sql}: {local}");
            assert_eq!(sqlstate(f), sqlstate(&local), "{sql}: {f:?}");
            assert_eq!(f.sql_err(), local.sql_err(), "{sql}");
            assert_eq!(text(f), text(&local), "{sql}");
        }
        // Typed: a unique violation through repo.insert, sql_err as with sea-orm.
        let typed = fwd
            .insert(new_product("U-1", 1))
            .await
            .expect_err("duplicate sku");
        let local = new_product("U-1", 1)
            .insert(&app.primary_db)
            .await
            .expect_err("duplicate sku locally");
        assert_eq!(typed.sql_err(), local.sql_err());
        assert!(matches!(
            typed.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ));
        let fk = fwd
            .insert(new_order(uuid::Uuid::nil(), 1))
            .await
            .expect_err("no such product");
        assert!(
            matches!(
                fk.sql_err(),
                Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
            ),
            "{fk:?}"
        );
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM products").await,
            1
        );
        app
    });
}

fn raw(sql: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, sql)
}

#[test]
fn the_allowlist_refuses_side_effects_and_lets_dml_through() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let refused = [
            "COPY audit (what) FROM STDIN",
            "COPY (SELECT 1) TO '/tmp/outsider-copy'",
            "DO $$ BEGIN INSERT INTO audit (what) VALUES ('do'); END $$",
            "CALL some_procedure()",
            "CREATE TABLE evil (x int)",
            "DROP TABLE audit",
            "ALTER TABLE audit ADD COLUMN y int",
            "TRUNCATE audit",
            "SET statement_timeout = 0",
            "SET LOCAL statement_timeout = 0",
            "RESET ALL",
            "GRANT ALL ON audit TO PUBLIC",
            "SELECT pg_advisory_lock(1)",
            "INSERT INTO audit (what, n) SELECT 'lock', pg_advisory_xact_lock(1)::text::bigint",
            "INSERT INTO audit (what) SELECT 'kill' WHERE pg_terminate_backend(0)",
            "INSERT INTO audit (what) SELECT 'sleep' FROM pg_catalog.pg_sleep(0)",
            "INSERT INTO audit (what) SELECT 'sleep' FROM \"pg_catalog\".\"pg_sleep\"(0)",
            "INSERT INTO audit (what) SELECT 'sleep' FROM \"pg_sleep\"(0)",
            "INSERT INTO audit (what) SELECT 'x' FROM (SELECT pg_sleep(0)) s",
            "WITH s AS (SELECT pg_terminate_backend(0)) INSERT INTO audit (what) SELECT 'cte' FROM s",
            "WITH s AS (SELECT pg_cancel_backend(0)) INSERT INTO audit (what) SELECT 'c' FROM s",
            "INSERT INTO audit (what) VALUES (set_config('statement_timeout', '0', false))",
            "INSERT INTO audit (what) VALUES (pg_read_file('/etc/hostname'))",
            "INSERT INTO audit (what) SELECT lo_import('/etc/hostname')::text",
            "INSERT INTO audit (what) SELECT dblink_exec('x')",
            "INSERT INTO audit (what) VALUES ('a'); INSERT INTO audit (what) VALUES ('b')",
            "LOCK TABLE audit",
            "VACUUM audit",
            "NOTIFY chan, 'x'",
            "INSERT INTO audit (what) SELECT pg_notify('chan', 'x')::text",
            "LISTEN chan",
            "PREPARE TRANSACTION 'x'",
            "SELECT 1",
            "INSERT INTO audit (what) SELECT pg_reload_conf()::text",
            "INSERT INTO audit (what) SELECT pg_switch_wal()::text",
            "DELETE FROM litefs_ledger",
        ];
        let mut let_through = Vec::new();
        for sql in refused {
            let request = Request::new(Action::Execute, "audit", Operation::Execute(raw(sql)));
            match fwd.call(request, &Default::default()).await {
                Err(RepoError::Rejected {
                    reason: RejectReason::Statement(st),
                }) => assert!(!st.message.is_empty(), "{sql}: says why"),
                other => let_through.push(format!("{sql}: {other:?}")),
            }
        }
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM audit").await,
            0,
            "a refused statement wrote nothing; let through: {let_through:#?}"
        );
        assert!(let_through.is_empty(), "not refused: {let_through:#?}");
        app
    });
}

#[test]
fn legitimate_dml_is_not_refused() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let allowed = [
            "INSERT INTO audit (what, n) VALUES ('seq', nextval('order_numbers'))",
            "INSERT INTO audit (what) VALUES (now()::text)",
            "INSERT INTO audit (what) VALUES (gen_random_uuid()::text)",
            "INSERT INTO audit (what, n) SELECT 'copy', n FROM audit WHERE what = 'seq'",
            "UPDATE audit SET n = coalesce(n, 0) + 1 WHERE what = 'seq'",
            "INSERT INTO audit (what) VALUES (lower('MiXeD') || ' ' || to_char(now(), 'YYYY'))",
            "INSERT INTO audit (what) VALUES ('jsonb ' || jsonb_build_object('a', 1)::text)",
            "DELETE FROM audit WHERE what = 'nothing'",
        ];
        let mut refused = Vec::new();
        for sql in allowed {
            if let Err(e) = fwd.execute_raw(raw(sql)).await {
                refused.push(format!("{sql}: {e}"));
            }
        }
        assert!(refused.is_empty(), "legitimate DML refused: {refused:#?}");
        assert_eq!(
            scalar(&app.standby_db, "SELECT count(*) FROM audit").await,
            6,
            "read back on the standby at once"
        );
        app
    });
}

#[test]
fn a_cte_insert_is_not_refused() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        for sql in [
            "WITH x AS (SELECT 'cte' AS w) INSERT INTO audit (what) SELECT w FROM x",
            "WITH ins AS (INSERT INTO audit (what) VALUES ('inner') RETURNING id) \
             INSERT INTO audit (what, n) SELECT 'outer', id FROM ins",
        ] {
            // The same statement runs on the primary's own connection.
            app.primary_db.execute_raw(raw(sql)).await.expect(sql);
            fwd.execute_raw(raw(sql)).await.expect(sql);
        }
        assert_eq!(
            scalar(&app.standby_db, "SELECT count(*) FROM audit").await,
            6
        );
        app
    });
}

#[test]
fn candidates_without_a_durability_config_is_refused_typed() {
    with_app(false, |app| async move {
        let err = app
            .standby
            .repo()
            .insert(new_product("C-0", 1))
            .durability(Durability::Candidates)
            .await
            .expect_err("no durability configured");
        let RepoError::Rejected {
            reason: RejectReason::Misconfigured { message },
        } = &err
        else {
            panic!("{err:?}");
        };
        assert!(message.contains("DurabilityConfig"), "{message}");
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM products").await,
            0,
            "nothing written"
        );
        app
    });
}

#[test]
fn sea_orm_transactions_from_the_standby() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let p = fwd.insert(new_product("T-1", 50)).await.expect("seed");
        // begin / commit with reads, counts, aggregates, related and raw queries inside.
        let txn = fwd.begin().await.expect("begin");
        new_order(p.id, 3).insert(&txn).await.expect("order in txn");
        let n = order::Entity::find().count(&txn).await.expect("count");
        assert_eq!(n, 1, "the transaction sees its own write");
        let sum: Option<i64> = order::Entity::find()
            .select_only()
            .column_as(order::Column::Qty.sum(), "s")
            .into_tuple()
            .one(&txn)
            .await
            .expect("sum")
            .flatten();
        assert_eq!(sum, Some(3));
        let pairs = order::Entity::find()
            .find_also_related(product::Entity)
            .all(&txn)
            .await
            .expect("related inside");
        assert_eq!(pairs.len(), 1);
        let rows = txn
            .query_all_raw(raw(
                "SELECT o.id, p.sku, o.total, p.attrs, o.placed_at FROM orders o \
                 JOIN products p ON p.id = o.product_id",
            ))
            .await
            .expect("raw query inside");
        assert_eq!(rows.len(), 1);
        let sku: String = rows[0].try_get("", "sku").expect("sku");
        assert_eq!(sku, "T-1");
        // A savepoint rolled back.
        let sp = txn.begin().await.expect("savepoint");
        new_order(p.id, 4).insert(&sp).await.expect("in savepoint");
        sp.rollback().await.expect("rollback savepoint");
        txn.commit().await.expect("commit");
        assert_eq!(
            fwd.count(order::Entity::find()).await.expect("count"),
            1,
            "committed once, savepoint gone, read at once on the standby"
        );
        // The closure form, failing: nothing written.
        let pid = p.id;
        let failed = TransactionTrait::transaction::<_, (), DbErr>(fwd, |t| {
            Box::pin(async move {
                new_order(pid, 1).insert(t).await?;
                new_product("T-1", 1).insert(t).await?; // duplicate sku
                Ok(())
            })
        })
        .await;
        assert!(failed.is_err());
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM orders").await,
            1
        );
        // The closure form, committing.
        TransactionTrait::transaction::<_, (), DbErr>(fwd, |t| {
            Box::pin(async move {
                new_order(pid, 1).insert(t).await?;
                Ok(())
            })
        })
        .await
        .expect("closure commits");
        assert_eq!(fwd.count(order::Entity::find()).await.expect("count"), 2);
        app
    });
}

#[test]
fn idempotency_keys_and_candidates_from_the_standby() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let key = IdempotencyKey::new("outsider-order-42").expect("key");
        let p = new_product("K-1", 1);
        let first = fwd
            .insert(p.clone())
            .idempotency_key(key.clone())
            .await
            .expect("first");
        let again = fwd
            .insert(p.clone())
            .idempotency_key(key.clone())
            .await
            .expect("retried with the same key: the recorded answer");
        assert_eq!(first, again);
        assert_eq!(
            scalar(
                &app.primary_db,
                "SELECT count(*) FROM products WHERE sku = 'K-1'"
            )
            .await,
            1
        );
        // The same key for a different write is refused, and writes nothing.
        let other = fwd
            .insert(new_product("K-2", 1))
            .idempotency_key(key.clone())
            .await
            .expect_err("same key, other payload");
        assert!(!matches!(other, RepoError::Database(_)), "{other:?}");
        assert_eq!(
            scalar(
                &app.primary_db,
                "SELECT count(*) FROM products WHERE sku = 'K-2'"
            )
            .await,
            0
        );
        // Candidates per call, forwarded and local.
        let c = fwd
            .insert(new_product("C-1", 1))
            .durability(Durability::Candidates)
            .await
            .expect("candidates forwarded");
        let on_standby: i64 = scalar(
            &app.standby_db,
            &format!("SELECT count(*) FROM products WHERE id = '{}'", c.id),
        )
        .await;
        assert_eq!(on_standby, 1);
        app.primary
            .repo()
            .insert(new_product("C-2", 1))
            .durability(Durability::Candidates)
            .await
            .expect("candidates local");
        app
    });
}

#[test]
fn bad_input_from_the_standby_fails_as_on_the_primary_and_never_panics() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let loc = app.primary.repo();
        let p = loc.insert(new_product("BAD", 1)).await.expect("seed");
        let sql = "INSERT INTO orders (id, product_id, qty, status, placed_at, total, note, weight) \
                   VALUES ($1, $2, 1, 'paid', $3, $4, $5, $6)";
        let cases: Vec<(&str, Value, Value, Value, Value)> = vec![
            (
                "nul",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::ONE.into(),
                "a\0b".into(),
                1.0_f64.into(),
            ),
            (
                "nan",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::ONE.into(),
                "nan".into(),
                f64::NAN.into(),
            ),
            (
                "inf",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::ONE.into(),
                "inf".into(),
                f64::INFINITY.into(),
            ),
            (
                "-inf",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::ONE.into(),
                "-inf".into(),
                f64::NEG_INFINITY.into(),
            ),
            (
                "max",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::MAX.into(),
                "max".into(),
                f64::MAX.into(),
            ),
            (
                "min",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::MIN.into(),
                "min".into(),
                f64::MIN_POSITIVE.into(),
            ),
            (
                "scale",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::new(1, 28).into(),
                "scale".into(),
                (-0.0_f64).into(),
            ),
            (
                "y9999",
                at("9999-12-31T23:59:59.999999+14:00").into(),
                Decimal::ONE.into(),
                "y9999".into(),
                1.0_f64.into(),
            ),
            (
                "y1",
                at("0001-01-01T00:00:00-12:00").into(),
                Decimal::ONE.into(),
                "y1".into(),
                1.0_f64.into(),
            ),
            (
                "huge",
                at("2026-01-01T00:00:00Z").into(),
                Decimal::ONE.into(),
                "x".repeat(3 << 20).into(),
                1.0_f64.into(),
            ),
        ];
        let mut diffs = Vec::new();
        for (label, ts, total, note, weight) in cases {
            let values = |id: uuid::Uuid| -> Vec<Value> {
                vec![
                    id.into(),
                    p.id.into(),
                    ts.clone(),
                    total.clone(),
                    note.clone(),
                    weight.clone(),
                ]
            };
            let (fid, lid) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
            let f = fwd
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    values(fid),
                ))
                .await;
            let l = app
                .primary_db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    sql,
                    values(lid),
                ))
                .await;
            let read = |id: uuid::Uuid| {
                format!(
                    "SELECT count(*) FROM orders WHERE id = '{id}' AND \
                     md5(coalesce(total::text,'') || placed_at::text || coalesce(weight::text,'') || \
                     coalesce(note,'')) = (SELECT md5(coalesce(total::text,'') || placed_at::text || \
                     coalesce(weight::text,'') || coalesce(note,'')) FROM orders WHERE id = '{lid}')"
                )
            };
            match (&f, &l) {
                (Ok(_), Ok(_)) => {
                    if scalar(&app.primary_db, &read(fid)).await != 1 {
                        diffs.push(format!("{label}: stored differently forwarded"));
                    }
                }
                (Err(fe), Err(le)) => {
                    let written = scalar(
                        &app.primary_db,
                        &format!("SELECT count(*) FROM orders WHERE id = '{fid}'"),
                    )
                    .await;
                    if written != 0 {
                        diffs.push(format!("{label}: refused but written"));
                    }
                    if sqlstate(fe) != sqlstate(le) {
                        diffs.push(format!(
                            "{label}: forwarded {:?} `{}`, local {:?} `{}`",
                            sqlstate(fe),
                            text(fe).chars().take(300).collect::<String>(),
                            sqlstate(le),
                            text(le).chars().take(300).collect::<String>()
                        ));
                    }
                }
                (f, l) => diffs.push(format!(
                    "{label}: forwarded {:?}, local {:?}",
                    f.as_ref().map(|r| r.rows_affected()).map_err(|e| e
                        .to_string()
                        .chars()
                        .take(300)
                        .collect::<String>()),
                    l.as_ref().map(|r| r.rows_affected()).map_err(|e| e
                        .to_string()
                        .chars()
                        .take(300)
                        .collect::<String>())
                )),
            }
        }
        // The node is still serving after all that.
        app.standby
            .repo()
            .insert(new_product("R-2", 1))
            .await
            .expect("a forwarded write afterwards");
        assert!(diffs.is_empty(), "{diffs:#?}");
        app
    });
}

/// Inside a transaction begun on the standby's node, statements run on the primary: the
/// allowlist must hold there too (reads with side effects, `SET`, advisory locks).
#[test]
fn the_allowlist_holds_inside_an_interactive_transaction() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let mut let_through = Vec::new();
        for sql in [
            "SELECT pg_advisory_lock(4242)",
            "SELECT pg_advisory_xact_lock(4243)",
            "SET statement_timeout = 0",
            "SELECT set_config('statement_timeout', '0', false)",
            "SELECT pg_terminate_backend(0)",
            "SELECT pg_catalog.pg_sleep(0)",
            "DO $$ BEGIN INSERT INTO audit (what) VALUES ('do'); END $$",
            "SELECT pg_notify('chan', 'x')",
            "COPY audit (what) FROM STDIN",
            "SELECT lo_create(0)",
            "CREATE TEMP TABLE t (x int)",
        ] {
            let txn = fwd.begin().await.expect("begin");
            let read = txn.query_all_raw(raw(sql)).await;
            let exec = if read.is_ok() {
                None
            } else {
                Some(txn.execute_raw(raw(sql)).await)
            };
            match (&read, &exec) {
                (Err(_), Some(Err(_))) => {}
                _ => let_through.push(format!(
                    "{sql}: query {:?} / execute {:?}",
                    read.as_ref().map(Vec::len),
                    exec.as_ref().map(|r| r.as_ref().map(|e| e.rows_affected()))
                )),
            }
            let _ = txn.rollback().await;
        }
        let locks = scalar(
            &app.primary_db,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
        )
        .await;
        let seq = scalar(
            &app.primary_db,
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM order_numbers",
        )
        .await;
        assert!(
            let_through.is_empty() && locks == 0,
            "let through inside a forwarded transaction: {let_through:#?}; advisory locks \
             held on the primary afterwards: {locks}; sequence advanced to {seq}"
        );
        app
    });
}

/// Values PostgreSQL stores but sea-orm's Rust types cannot hold, returned by a write
/// (`RETURNING`): the forwarded call fails when the local one does (even where sqlx
/// panics decoding an infinite `timestamptz`), writes nothing then, and the node serves on.
#[test]
fn unrepresentable_returned_values_fail_as_locally() {
    with_app(true, |app| async move {
        let p = app
            .primary
            .repo()
            .insert(new_product("R-1", 1))
            .await
            .expect("seed");
        let mut diffs = Vec::new();
        for (label, total, placed) in [
            ("numeric-nan", "'NaN'", "now()"),
            ("numeric-tiny", "1e-40", "now()"),
            ("numeric-huge", "1e40", "now()"),
            ("ts-infinity", "1", "'infinity'"),
            ("ts-bc", "1", "'4713-01-01 00:00:00+00 BC'"),
        ] {
            let mut ids = Vec::new();
            for _ in 0..2 {
                let id = uuid::Uuid::new_v4();
                app.primary_db
                    .execute_raw(raw(&format!(
                        "INSERT INTO orders (id, product_id, qty, status, placed_at, total, note) \
                         VALUES ('{id}', '{}', 1, 'paid', {placed}, {total}, '{label}')",
                        p.id
                    )))
                    .await
                    .expect(label);
                ids.push(id);
            }
            let update = |id: uuid::Uuid| {
                order::Entity::update_many()
                    .col_expr(order::Column::Qty, Expr::value(2))
                    .filter(order::Column::Id.eq(id))
            };
            let f = app
                .standby
                .repo()
                .update_all(update(ids[0]))
                .returning()
                .await;
            // Plain sea-orm may panic in sqlx's decoder: run it where a panic is caught.
            let db = app.primary_db.clone();
            let q = update(ids[1]);
            let l = match tokio::spawn(async move { q.exec_with_returning(&db).await }).await {
                Ok(l) => l,
                Err(join) => Err(DbErr::Custom(format!("local sea-orm panicked: {join}"))),
            };
            let qty = |id: uuid::Uuid| format!("SELECT qty::bigint FROM orders WHERE id = '{id}'");
            let (fq, lq) = (
                scalar(&app.primary_db, &qty(ids[0])).await,
                scalar(&app.primary_db, &qty(ids[1])).await,
            );
            // Locally the UPDATE commits before sqlx fails to decode the row (autocommit);
            // forwarded, the failing write is rolled back: an error writes nothing.
            let forwarded_wrote = fq == 2;
            if f.is_ok() != l.is_ok() || f.is_ok() != forwarded_wrote || (f.is_ok() && fq != lq) {
                diffs.push(format!(
                    "{label}: forwarded {:?} (qty {fq}), local {:?} (qty {lq})",
                    f.map(|v| v.len()).map_err(|e| e.to_string()),
                    l.map(|v| v.len()).map_err(|e| e.to_string())
                ));
            }
        }
        // The node is still serving after all that.
        app.standby
            .repo()
            .insert(new_product("R-2", 1))
            .await
            .expect("a forwarded write afterwards");
        assert!(diffs.is_empty(), "{diffs:#?}");
        app
    });
}

/// A statement error inside a transaction begun on the standby: classified as locally;
/// after a savepoint rolled back the transaction goes on and commits.
#[test]
fn errors_inside_a_forwarded_transaction_match_local_ones() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let p = fwd.insert(new_product("E-1", 5)).await.expect("seed");
        // One after the other: on PostgreSQL a node runs one write at a time, an open
        // transaction included (README, "Where it runs").
        for (conn_name, repo) in [("forwarded", fwd), ("local", app.primary.repo())] {
            let txn = repo.begin().await.expect("begin");
            new_order(p.id, 1).insert(&txn).await.expect(conn_name);
            let sp = txn.begin().await.expect("savepoint");
            let dup = new_product("E-1", 1)
                .insert(&sp)
                .await
                .expect_err("duplicate");
            assert!(
                matches!(
                    dup.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ),
                "{conn_name}: {dup:?}"
            );
            let check = sp
                .execute_raw(raw("UPDATE products SET stock = -1"))
                .await
                .expect_err("aborted already");
            assert_eq!(sqlstate(&check).as_deref(), Some("25P02"), "{conn_name}");
            sp.rollback().await.expect("rollback to savepoint");
            let neg = txn.begin().await.expect("savepoint 2");
            let err = neg
                .execute_raw(raw("UPDATE products SET stock = -1"))
                .await
                .expect_err("check");
            assert_eq!(
                sqlstate(&err).as_deref(),
                Some("23514"),
                "{conn_name}: {err}"
            );
            neg.rollback().await.expect("rollback 2");
            txn.commit().await.expect(conn_name);
        }
        // On the primary: the standby's reads wait only for the standby's own writes.
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM orders").await,
            2,
            "both transactions committed their order, and only that"
        );
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM products").await,
            1
        );
        app
    });
}

/// A raw query of a type the wire cannot carry (documented: refused naming the column),
/// inside a transaction begun on the standby; the same on plain sea-orm succeeds. What
/// matters here: a typed error, and the transaction's earlier write is not silently lost.
#[test]
fn an_untyped_column_inside_a_forwarded_transaction() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let p = fwd.insert(new_product("X-1", 5)).await.expect("seed");
        let txn = fwd.begin().await.expect("begin");
        new_order(p.id, 1).insert(&txn).await.expect("insert");
        let mut answers = Vec::new();
        for sql in [
            "SELECT '1 day'::interval AS i",
            "SELECT '127.0.0.1'::inet AS a",
            "SELECT ARRAY[1, 2] AS xs",
        ] {
            match txn.query_all_raw(raw(sql)).await {
                Ok(rows) => answers.push(format!("{sql}: {} rows", rows.len())),
                Err(e) => {
                    let shown = e.to_string();
                    assert!(
                        shown.contains('i') || shown.contains('a') || shown.contains("xs"),
                        "{shown}"
                    );
                    answers.push(format!("{sql}: {shown}"));
                }
            }
        }
        let committed = txn.commit().await;
        let orders = scalar(&app.primary_db, "SELECT count(*) FROM orders").await;
        assert!(
            (committed.is_ok() && orders == 1) || (committed.is_err() && orders == 0),
            "commit {committed:?} but {orders} orders; answers: {answers:#?}"
        );
        eprintln!("untyped columns: {answers:#?}; commit {committed:?}; orders {orders}");
        app
    });
}

/// Oversized and malformed writes from the standby: refused with a reason, nothing
/// written, the node serves on.
#[test]
fn oversized_and_malformed_typed_writes() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let p = fwd.insert(new_product("O-1", 5)).await.expect("seed");
        let mut big = new_order(p.id, 1);
        big.note = Set(Some("y".repeat(40 << 20)));
        let err = fwd.insert(big).await.expect_err("40 MiB note");
        assert!(
            matches!(
                err,
                RepoError::Rejected {
                    reason: RejectReason::TooLarge(_)
                }
            ),
            "{err:?}"
        );
        // A JSON string with U+0000: jsonb refuses it (22P05) locally and forwarded.
        let mut nul = new_product("O-2", 1);
        nul.attrs = Set(serde_json::json!({"k": "a\u{0}b"}));
        let local = nul
            .clone()
            .insert(&app.primary_db)
            .await
            .expect_err("jsonb NUL locally");
        let forwarded = fwd.insert(nul).await.expect_err("jsonb NUL forwarded");
        let fe = db_err(&forwarded).expect("db error");
        assert_eq!(sqlstate(fe), sqlstate(&local), "{forwarded:?} vs {local:?}");
        // A NUL in a text column through the typed path.
        let mut nul_text = new_product("O-3", 1);
        nul_text.name = Set("a\0b".into());
        let local = nul_text
            .clone()
            .insert(&app.primary_db)
            .await
            .expect_err("text NUL locally");
        let forwarded = fwd.insert(nul_text).await.expect_err("text NUL forwarded");
        let fe = db_err(&forwarded).expect("db error");
        assert_eq!(sqlstate(fe), sqlstate(&local), "{forwarded:?} vs {local:?}");
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM orders").await
                + scalar(&app.primary_db, "SELECT count(*) FROM products").await,
            1,
            "nothing written but the seed"
        );
        fwd.insert(new_product("O-4", 1)).await.expect("serves on");
        app
    });
}

/// sea-orm edge cases of typed writes from the standby, against plain sea-orm on the
/// primary: a database-generated uuid key, an update or delete of a missing row, a
/// named transaction and a key reused on the other node.
#[test]
fn typed_edge_cases_answer_as_plain_sea_orm() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        // The key left to the database (DEFAULT gen_random_uuid()), through save().
        let no_key = |sku: &str| {
            let mut am = new_product(sku, 1);
            am.id = sea_orm::ActiveValue::NotSet;
            am
        };
        let f = fwd.insert_or_update(no_key("G-1")).await;
        let l = no_key("G-2").save(&app.primary_db).await;
        assert_eq!(f.is_ok(), l.is_ok(), "forwarded {f:?}, local {l:?}");
        // An update of a missing row: sea-orm's RecordNotUpdated.
        let mut ghost: product::ActiveModel = new_product("GHOST", 1);
        ghost.stock = Set(9);
        let f = fwd.update(ghost.clone()).await.expect_err("no such row");
        let l = ghost
            .clone()
            .update(&app.primary_db)
            .await
            .expect_err("no such row");
        assert_eq!(db_err(&f).map(ToString::to_string), Some(l.to_string()));
        // A delete of a missing row: zero rows, no error.
        let f = fwd.delete(ghost.clone()).await.expect("delete nothing");
        assert_eq!(f.rows_affected, 0);
        // A key used from the standby, then the same call with it on the primary's node.
        let key = IdempotencyKey::new("outsider-both-nodes").expect("key");
        let p = fwd.insert(new_product("N-1", 5)).await.expect("product");
        let args = OrderArgs {
            id: uuid::Uuid::new_v4(),
            product: p.id,
            qty: 1,
        };
        let first = fwd
            .transaction::<PlaceOrder>(args.clone())
            .idempotency_key(key.clone())
            .await
            .expect("first");
        let again = fwd
            .transaction::<PlaceOrder>(args.clone())
            .idempotency_key(key.clone())
            .await
            .expect("again from the standby");
        assert_eq!(first, again);
        let other_args = OrderArgs {
            id: uuid::Uuid::new_v4(),
            ..args.clone()
        };
        let refused = fwd
            .transaction::<PlaceOrder>(other_args)
            .idempotency_key(key.clone())
            .await
            .expect_err("other args, same key");
        assert!(!matches!(refused, RepoError::Database(_)), "{refused:?}");
        let on_primary = app
            .primary
            .repo()
            .transaction::<PlaceOrder>(args)
            .idempotency_key(key)
            .await;
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM orders").await,
            1,
            "one order whatever the node the key was reused on; primary answered {on_primary:?}"
        );
        assert_eq!(on_primary.expect("the recorded answer"), first);
        app
    });
}

/// Statements a forwarding primary must refuse, written to slip past a naive allowlist:
/// functions that run SQL from a string, server administration functions, spellings
/// of reserved names, system catalogs.
#[test]
fn the_allowlist_sees_through_disguises() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let mut let_through = Vec::new();
        for sql in [
            "INSERT INTO audit (what) SELECT query_to_xml('DELETE FROM products', true, true, '')::text",
            "INSERT INTO audit (what) SELECT query_to_xml_and_xmlschema('SELECT pg_sleep(0)', true, true, '')::text",
            "INSERT INTO audit (what) SELECT database_to_xml(true, true, '')::text",
            "INSERT INTO audit (what) VALUES (lo_from_bytea(0, 'x')::text)",
            "INSERT INTO audit (what) VALUES (lo_unlink(1)::text)",
            "INSERT INTO audit (what) VALUES (lo_put(1, 0, 'x')::text)",
            "DELETE FROM pg_largeobject WHERE false",
            "INSERT INTO audit (what) VALUES (pg_export_snapshot())",
            "INSERT INTO audit (what) VALUES (pg_drop_replication_slot('x')::text)",
            "INSERT INTO audit (what) VALUES (pg_create_logical_replication_slot('x', 'pgoutput')::text)",
            "INSERT INTO audit (what) VALUES (pg_replication_origin_create('x')::text)",
            "INSERT INTO audit (what) VALUES (pg_log_backend_memory_contexts(1)::text)",
            "INSERT INTO audit (what) VALUES (pg_backup_start('x')::text)",
            "INSERT INTO audit (what) VALUES (pg_stat_reset_shared('bgwriter')::text)",
            "INSERT INTO audit (what) VALUES (pg_import_system_collations('public')::text)",
            "INSERT INTO audit (what) VALUES (pg_try_advisory_xact_lock_shared(1)::text)",
            "INSERT INTO audit (what) VALUES (cursor_to_xml('c', 1, true, true, '')::text)",
            "INSERT INTO audit (what) VALUES (pg_cancel_backend(pg_backend_pid())::text)",
            "INSERT INTO audit (what) VALUES (pg_sleep_for('0 s')::text)",
            "INSERT INTO audit (what) VALUES (pg_sleep_until(now())::text)",
            "INSERT INTO audit (what) VALUES (pg_current_logfile())",
            "INSERT INTO audit (what) VALUES (pg_stat_file('/etc/hostname')::text)",
            "INSERT INTO audit (what) VALUES (pg_wal_replay_pause()::text)",
            "INSERT INTO audit (what) VALUES (pg_catalog . pg_terminate_backend (0)::text)",
            "INSERT INTO audit (what) VALUES (pg_catalog/**/.pg_terminate_backend(0)::text)",
            "INSERT INTO audit (what) VALUES (PG_TERMINATE_BACKEND(0)::text)",
            "INSERT INTO audit (what) VALUES (U&\"pg_termin\\0061te_backend\"(0)::text)",
            "INSERT INTO audit (what) VALUES ('x') RETURNING pg_terminate_backend(0)",
            "UPDATE audit SET what = (SELECT pg_sleep(0)::text)",
            "INSERT INTO audit (what) VALUES (pg_promote(false)::text)",
            "INSERT INTO audit (what) VALUES (pg_create_restore_point('x')::text)",
            "INSERT INTO audit (what) VALUES (pg_logical_emit_message(true, 'x', 'y')::text)",
            "INSERT INTO audit (what) VALUES (pg_stat_reset()::text)",
            "INSERT INTO audit (what) VALUES (pg_rotate_logfile()::text)",
            "INSERT INTO audit (what) VALUES (pg_read_binary_file('/etc/hostname')::text)",
            "INSERT INTO audit (what) SELECT pg_ls_dir('.')",
            "INSERT INTO audit (what) VALUES (lo_export(0, '/tmp/x')::text)",
            "INSERT INTO audit (what) VALUES (pg_create_physical_replication_slot('evil')::text)",
            "INSERT INTO audit (what) VALUES (setval('order_numbers', 1000)::text)",
            "INSERT INTO audit (what) VALUES (pg_try_advisory_lock(7)::text)",
            "INSERT INTO audit (what) VALUES (pg_advisory_unlock_all()::text)",
            "INSERT INTO audit (what) VALUES (txid_current_if_assigned()::text) ; SELECT 1",
            "DELETE FROM public.litefs_ledger",
            "DELETE FROM \"litefs_ledger\"",
            "DELETE FROM LITEFS_LEDGER",
            "UPDATE pg_catalog.pg_database SET datallowconn = datallowconn WHERE false",
            "UPDATE pg_authid SET rolconnlimit = rolconnlimit WHERE false",
            "DELETE FROM pg_catalog.pg_description WHERE false",
            "MERGE INTO audit a USING (SELECT pg_sleep(0) AS s) x ON false WHEN NOT MATCHED THEN INSERT (what) VALUES ('m')",
            "EXPLAIN ANALYZE DELETE FROM products",
            "SELECT * FROM products FOR UPDATE",
        ] {
            let request = Request::new(Action::Execute, "audit", Operation::Execute(raw(sql)));
            match fwd.call(request, &Default::default()).await {
                Err(RepoError::Rejected {
                    reason: RejectReason::Statement(_),
                }) => {}
                other => let_through.push(format!("{sql}: {other:?}")),
            }
        }
        let audit = scalar(&app.primary_db, "SELECT count(*) FROM audit").await;
        assert!(
            let_through.is_empty(),
            "not refused ({audit} audit rows): {let_through:#?}"
        );
        app
    });
}

/// `ts_stat(sqlquery)` and `ts_rewrite(query, sqlquery)` run the SQL text they are given:
/// a forbidden function inside that text must not run on the primary.
#[test]
fn sql_text_run_by_ts_stat_or_ts_rewrite_is_refused() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let mut let_through = Vec::new();
        for sql in [
            "INSERT INTO audit (what) SELECT count(*)::text FROM \
             ts_stat('SELECT to_tsvector(pg_advisory_lock(4711)::text)')",
            "INSERT INTO audit (what) SELECT ts_rewrite('a'::tsquery, \
             'SELECT ''a''::tsquery, (pg_advisory_lock(4712)::text || ''b'')::tsquery')::text",
        ] {
            let request = Request::new(Action::Execute, "audit", Operation::Execute(raw(sql)));
            match fwd.call(request, &Default::default()).await {
                Err(RepoError::Rejected {
                    reason: RejectReason::Statement(_),
                }) => {}
                other => let_through.push(format!("{sql}: {other:?}")),
            }
        }
        // And as a read inside a transaction begun on the standby (it runs on the primary).
        let txn = fwd.begin().await.expect("begin");
        let read = txn
            .query_all_raw(raw(
                "SELECT count(*) FROM ts_stat('SELECT to_tsvector(pg_advisory_lock(4713)::text)')",
            ))
            .await;
        if read.is_ok() {
            let_through.push("ts_stat inside a forwarded transaction: Ok".to_owned());
        }
        let _ = txn.rollback().await;
        let held = scalar(
            &app.primary_db,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND objid IN (4711, 4712, 4713)",
        )
        .await;
        assert!(
            let_through.is_empty() && held == 0,
            "advisory locks held on the primary's writer session: {held}; let through: \
             {let_through:#?}"
        );
        app
    });
}

/// Rows without an entity inside a transaction begun on the standby (typed on the primary
/// by their declared types, docs/BACKENDS.md) read as in a local transaction.
#[test]
fn untyped_rows_inside_a_forwarded_transaction_read_as_locally() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        let p = fwd.insert(new_product("Q-1", 5)).await.expect("seed");
        fwd.insert(new_order(p.id, 3)).await.expect("order");
        let sql = "SELECT sum(p.price) AS s, avg(o.qty) AS a, max(o.status) AS st, \
                   min(o.placed_at) AS t, bool_and(o.qty > 0) AS b, count(*) AS c, \
                   max(p.attrs::text)::jsonb AS j, max(p.id::text)::uuid AS u, \
                   1::int2 AS small, max(o.weight) AS w, max(p.name) AS n \
                   FROM orders o JOIN products p ON p.id = o.product_id";
        let mut seen = Vec::new();
        for repo in [fwd, app.primary.repo()] {
            let txn = repo.begin().await.expect("begin");
            let rows = txn.query_all_raw(raw(sql)).await.expect("query");
            let r = &rows[0];
            seen.push(format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                r.try_get::<Decimal>("", "s"),
                r.try_get::<Decimal>("", "a"),
                r.try_get::<String>("", "st"),
                r.try_get::<chrono::DateTime<chrono::FixedOffset>>("", "t"),
                r.try_get::<bool>("", "b"),
                r.try_get::<i64>("", "c"),
                r.try_get::<serde_json::Value>("", "j"),
                r.try_get::<uuid::Uuid>("", "u"),
                r.try_get::<i16>("", "small"),
                r.try_get::<f64>("", "w"),
                r.try_get::<String>("", "n"),
            ));
            txn.rollback().await.expect("rollback");
        }
        assert_eq!(seen[0], seen[1]);
        assert!(!seen[0].contains("Err"), "{}", seen[0]);
        app
    });
}

/// Batch edge cases from the standby against plain sea-orm: every row in conflict,
/// nothing matched, and statements with very many parameters.
#[test]
fn batch_edge_cases_answer_as_plain_sea_orm() {
    with_app(true, |app| async move {
        let fwd = app.standby.repo();
        fwd.insert(new_product("DUP", 1)).await.expect("seed");
        let nothing = || {
            product::Entity::insert_many([new_product("DUP", 2)]).on_conflict(
                sea_orm::sea_query::OnConflict::column(product::Column::Sku)
                    .do_nothing()
                    .to_owned(),
            )
        };
        let f = fwd.insert_all(nothing()).await;
        let l = nothing().exec(&app.primary_db).await;
        assert_eq!(
            f.as_ref().err().and_then(db_err).map(ToString::to_string),
            l.as_ref().err().map(ToString::to_string),
            "forwarded {f:?}, local {l:?}"
        );
        let none = fwd
            .update_all(
                product::Entity::update_many()
                    .col_expr(product::Column::Stock, Expr::value(1))
                    .filter(product::Column::Sku.eq("none")),
            )
            .returning()
            .await
            .expect("nothing matched");
        assert!(none.is_empty());
        // 5,000 rows (35,000 parameters) and 10,000 rows (70,000: past PostgreSQL's 65,535).
        for (n, label) in [(5_000, "five"), (10_000, "ten")] {
            let rows = |prefix: &str| {
                (0..n)
                    .map(|i| new_product(&format!("{prefix}-{label}-{i}"), 1))
                    .collect::<Vec<_>>()
            };
            let f = fwd
                .insert_all(product::Entity::insert_many(rows("f")))
                .await;
            let l = product::Entity::insert_many(rows("l"))
                .exec(&app.primary_db)
                .await;
            let count = |prefix: &str| {
                format!("SELECT count(*) FROM products WHERE sku LIKE '{prefix}-{label}-%'")
            };
            let (fc, lc) = (
                scalar(&app.primary_db, &count("f")).await,
                scalar(&app.primary_db, &count("l")).await,
            );
            assert_eq!(
                (f.is_ok(), fc),
                (l.is_ok(), lc),
                "{n} rows: forwarded {:?}, local {:?}",
                f.map(|_| ()),
                l.map(|_| ())
            );
        }
        app
    });
}

/// The CPU-bound write used by the timeout tests (a 10^10-row join, no disk).
const SLOW: &str = "INSERT INTO audit (what) SELECT count(*)::text \
                    FROM generate_series(1, 100000) a, generate_series(1, 100000) b";

fn slow_request() -> Request {
    Request::new(Action::Execute, "audit", Operation::Execute(raw(SLOW)))
}

/// A forwarded write that runs past the primary's `statement_timeout` (5 s, set by
/// `repo_postgres::connect`), within the call's deadline, fails as it does locally,
/// writes nothing, and the node's writer is free again afterwards.
#[test]
fn a_write_past_the_statement_timeout_fails_as_locally() {
    with_app(true, |app| async move {
        let local = app
            .primary_db
            .execute_raw(raw(SLOW))
            .await
            .expect_err("cancelled locally");
        let options = repo_core::CallOptions {
            timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let forwarded = app
            .standby
            .repo()
            .call(slow_request(), &options)
            .await
            .expect_err("cancelled forwarded");
        let f = db_err(&forwarded).expect("a database error");
        assert_eq!(sqlstate(&local).as_deref(), Some("57014"), "{local}");
        assert_eq!(sqlstate(f), sqlstate(&local), "{forwarded:?}");
        assert_eq!(text(f), text(&local));
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM audit").await,
            0
        );
        app.standby
            .repo()
            .execute_raw(raw("INSERT INTO audit (what) VALUES ('after')"))
            .await
            .expect("the writer is free");
        app
    });
}

/// README: "a statement still running at the request's deadline ... is interrupted, rolls
/// back and fails with `RepoError::Interrupted`". On PostgreSQL, with a call deadline
/// shorter than `statement_timeout`, the answer should say the write did not commit.
#[test]
fn a_write_past_the_call_deadline_is_interrupted_definitively() {
    with_app(true, |app| async move {
        let options = repo_core::CallOptions {
            timeout: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        let err = app
            .standby
            .repo()
            .call(slow_request(), &options)
            .await
            .expect_err("past its deadline");
        let local_err = app
            .primary
            .repo()
            .call(slow_request(), &options)
            .await
            .expect_err("past its deadline, on the primary's node");
        assert_eq!(
            (err.commit_state(), local_err.commit_state()),
            (
                repo_core::CommitState::NotCommitted,
                repo_core::CommitState::NotCommitted
            ),
            "forwarded: {err:?}; local: {local_err:?}"
        );
        assert!(
            matches!(
                (&err, &local_err),
                (RepoError::Interrupted { .. }, RepoError::Interrupted { .. })
            ),
            "the writer's answer, not the caller's timer: {err:?}; {local_err:?}"
        );
        assert_eq!(
            scalar(&app.primary_db, "SELECT count(*) FROM audit").await,
            0
        );
        app
    });
}
