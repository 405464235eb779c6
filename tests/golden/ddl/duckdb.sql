-- The fleetlog lake in DuckDB: views over its files; partitions are found at each query.

CREATE OR REPLACE VIEW "stl_query" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_query/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_querytext" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_querytext/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_explain" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_explain/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_wlm_query" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_wlm_query/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_scan" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_scan/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_alert_event_log" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_alert_event_log/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_ddltext" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_ddltext/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_utilitytext" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/stl_utilitytext/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_query_history" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_query_history/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_query_text" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_query_text/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_query_detail" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_query_detail/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_query_explain" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_query_explain/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_load_history" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_load_history/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_unload_history" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_unload_history/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_connection_log" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_connection_log/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_session_history" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_session_history/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_transaction_history" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_transaction_history/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "sys_serverless_usage" AS
SELECT * FROM read_parquet('/srv/fleetlog/lake/sys_serverless_usage/*/*/*.parquet', hive_partitioning = true, union_by_name = true,
                           hive_types = {'cluster': VARCHAR, 'dt': DATE});

CREATE OR REPLACE VIEW "stl_querytext_full" AS
SELECT "cluster", "query",
       any_value("userid") AS "userid",
       replace(array_to_string(list_transform(list_sort(list({'s': "sequence", 't': "text"})), p -> p.t), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "stl_querytext"
GROUP BY "cluster", "query";

CREATE OR REPLACE VIEW "stl_ddltext_full" AS
SELECT "cluster", "xid", "pid", "starttime",
       any_value("userid") AS "userid",
       replace(array_to_string(list_transform(list_sort(list({'s': "sequence", 't': "text"})), p -> p.t), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "stl_ddltext"
GROUP BY "cluster", "xid", "pid", "starttime";

CREATE OR REPLACE VIEW "stl_utilitytext_full" AS
SELECT "cluster", "xid", "pid", "starttime",
       any_value("userid") AS "userid",
       replace(array_to_string(list_transform(list_sort(list({'s': "sequence", 't': "text"})), p -> p.t), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "stl_utilitytext"
GROUP BY "cluster", "xid", "pid", "starttime";

CREATE OR REPLACE VIEW "sys_query_text_full" AS
SELECT "cluster", "query_id",
       any_value("user_id") AS "user_id",
       replace(array_to_string(list_transform(list_sort(list({'s': "sequence", 't': "text"})), p -> p.t), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "sys_query_text"
GROUP BY "cluster", "query_id";

