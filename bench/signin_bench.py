"""Sign-in timing: a wrong password for a real account, an unknown name and a deactivated account must
take about the same time, so the answer's timing does not tell which names exist (docs/security.md).

Run: `.venv/bin/python bench/signin_bench.py [--attempts N] [--database URL]` (SQLite in a temporary
folder by default; a PostgreSQL database named here is emptied first). Signs in N times with each kind
of name through the real app, with production's scrypt, and prints the median and p95 of each and
their ratios to the real account's. Target: every ratio between 0.8 and 1.25.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: the app is the checkout

from sqlalchemy import delete  # noqa: E402

from app import create_app  # noqa: E402
from app.db import Database  # noqa: E402
from app.models import SignInThrottle  # noqa: E402
from app.users import create_user  # noqa: E402
from bench.fuzz import fresh  # noqa: E402

NAMES = {"real account, wrong password": "zhaolei", "unknown name": "nobody", "deactivated account": "qianli"}


def run(attempts: int, url: str) -> None:
    fresh(url)
    db = Database(url)
    with db.transaction() as session:
        create_user(session, "zhaolei", "right-password", ["first_line"])
        create_user(session, "qianli", "right-password", ["first_line"]).active = False
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "PASSWORD_HASH_METHOD": "scrypt"})
    client = app.test_client()
    token = _token(client)
    timings: dict[str, list[float]] = {kind: [] for kind in NAMES}
    for _ in range(attempts):
        for kind, name in NAMES.items():  # interleaved: machine noise falls on every kind alike
            with db.transaction() as session:  # no throttling here: every attempt checks its password
                session.execute(delete(SignInThrottle))
            began = time.perf_counter()
            response = client.post("/login", data={"username": name, "password": "wrong", "csrf_token": token})
            timings[kind].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 401, response.status_code
    real = statistics.median(timings["real account, wrong password"])
    for kind, values in timings.items():
        median, p95 = statistics.median(values), statistics.quantiles(values, n=20)[-1]
        print(f"{kind:30} median {median:6.1f} ms   p95 {p95:6.1f} ms   ratio {median / real:.2f}")


def _token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=30)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    run(args.attempts, args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'signin.sqlite3'}")


if __name__ == "__main__":
    main()
