#!/usr/bin/python3
"""The Redshift Data API walk with Debian's boto3 (run by tests/aws/clients.test.mjs).

Environment: FLEETLOG_ENDPOINT, FLEETLOG_CLUSTER, FLEETLOG_ROWS, FLEETLOG_LONG_SQL,
FLEETLOG_CLUSTERS, and the AWS_* credentials. Prints "boto3 <version>: ok" and exits 0 when
every step passed; an assertion error otherwise.
"""
import os
import sys
import time
import uuid

import boto3
import botocore
from botocore.exceptions import ClientError

ENDPOINT = os.environ["FLEETLOG_ENDPOINT"]
CLUSTER = os.environ["FLEETLOG_CLUSTER"]
ROWS = int(os.environ["FLEETLOG_ROWS"])
LONG_SQL = os.environ["FLEETLOG_LONG_SQL"]
CLUSTERS = int(os.environ["FLEETLOG_CLUSTERS"])
CONN = {"ClusterIdentifier": CLUSTER, "Database": "fleetlog"}


def client(secret=None):
    config = botocore.config.Config(retries={"max_attempts": 1})
    kwargs = {"endpoint_url": ENDPOINT, "region_name": "us-east-1", "config": config}
    if secret is not None:
        kwargs.update(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=secret)
    return boto3.client("redshift-data", **kwargs)


def wait(rs, statement_id):
    while True:
        d = rs.describe_statement(Id=statement_id)
        if d["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return d
        time.sleep(0.02)


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        return e
    raise AssertionError(f"expected {code}, the call succeeded")


def main():
    rs = client()

    # A query over the lake.
    lake = rs.execute_statement(Sql="SELECT cluster, count(*) AS n FROM stl_query GROUP BY 1 ORDER BY 1",
                                StatementName="py-lake", **CONN)
    assert lake["CreatedAt"].year >= 2024, lake
    done = wait(rs, lake["Id"])
    assert done["Status"] == "FINISHED", done
    assert done["ResultRows"] == CLUSTERS, done
    records = rs.get_statement_result(Id=lake["Id"])["Records"]
    assert len(records) == CLUSTERS and records[0][1]["longValue"] > 0, records

    # A multi-page result through botocore's paginator (which refuses a repeated token).
    big = rs.execute_statement(Sql=f"SELECT i, i * 0.25 AS q FROM range({ROWS}) t(i) ORDER BY i", **CONN)
    assert wait(rs, big["Id"])["Status"] == "FINISHED"
    seen, pages = [], 0
    for page in rs.get_paginator("get_statement_result").paginate(Id=big["Id"]):
        pages += 1
        assert page["TotalNumRows"] == ROWS
        assert [c["typeName"] for c in page["ColumnMetadata"]] == ["int8", "numeric"], page["ColumnMetadata"]
        for row in page["Records"]:
            seen.append(row[0]["longValue"])
            assert row[1] == {"stringValue": f"{row[0]['longValue'] * 0.25:.2f}"}, row
    assert pages == 3, pages
    assert seen == list(range(ROWS))

    # Cancel a long one; while it runs the queue is full.
    long = rs.execute_statement(Sql=LONG_SQL, **CONN)
    while rs.describe_statement(Id=long["Id"])["Status"] != "STARTED":
        time.sleep(0.01)
    expect_error("ActiveStatementsExceededException", rs.execute_statement, Sql="SELECT 1", **CONN)
    assert rs.cancel_statement(Id=long["Id"])["Status"] is True
    assert wait(rs, long["Id"])["Status"] == "ABORTED"

    # A batch.
    batch = rs.batch_execute_statement(Sqls=["SELECT 1 AS one", "SELECT 'two' AS two"], StatementName="py-batch", **CONN)
    d = wait(rs, batch["Id"])
    assert [s["Status"] for s in d["SubStatements"]] == ["FINISHED", "FINISHED"], d
    assert rs.get_statement_result(Id=batch["Id"] + ":2")["Records"] == [[{"stringValue": "two"}]]

    # Lists.
    listed = [s["Id"] for s in rs.list_statements(StatementName="py-")["Statements"]]
    assert listed == [batch["Id"], lake["Id"]], listed
    tables = {t["name"]: t["type"] for t in rs.list_tables(TablePattern="stl_%", **CONN)["Tables"]}
    assert tables.get("stl_query") == "TABLE" and tables.get("stl_querytext_full") == "VIEW", tables
    schemas = rs.list_schemas(**CONN)["Schemas"]
    assert schemas == ["public"], schemas
    columns = [c["name"] for c in rs.describe_table(Table="stl_querytext_full", **CONN)["ColumnList"]]
    assert columns[-3:] == ["text", "pieces", "dt"], columns

    # Errors.
    bad = rs.execute_statement(Sql="SELEC nonsense", **CONN)
    d = wait(rs, bad["Id"])
    assert d["Status"] == "FAILED" and d["Error"], d
    e = expect_error("ResourceNotFoundException", rs.describe_statement, Id=str(uuid.UUID(int=0)))
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    expect_error("InvalidSignatureException", client(secret="not-the-secret").list_databases, **CONN)
    expect_error("ValidationException", rs.get_statement_result, Id=bad["Id"])

    print(f"boto3 {boto3.__version__}: ok (botocore {botocore.__version__})")


if __name__ == "__main__":
    sys.exit(main())
