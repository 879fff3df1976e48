"""Seeds the primary's blog.db with published posts up to a total count (a direct local write,
replicated by the emulator like any commit). Usage: seed.py DB_PATH TOTAL"""
import sqlite3
import sys

path, total = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path, timeout=30)
have = db.execute("SELECT count(*) FROM posts").fetchone()[0]
now = "2026-11-30 00:00:00"
rows = (
    (f"Seed {i}", f"seed-{i}", "Seeded for the benchmark.", True, now, now, now)
    for i in range(have, total)
)
with db:
    db.executemany(
        "INSERT INTO posts (title, slug, body, published, created_at, updated_at, published_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
print(db.execute("SELECT count(*) FROM posts").fetchone()[0])
