/* out_clickhouse.h - flow records as flat JSONEachRow rows for ClickHouse
 * (--events-format clickhouse), the rows of sql/clickhouse.sql's
 * tamperscope.flows.
 *
 * One row per flow, no nested objects (arrays only), every column the
 * table has and no other, so that
 *   clickhouse-client --query 'INSERT INTO tamperscope.flows FORMAT JSONEachRow'
 * ingests the file as it is.  The rows carry what the report counts, keyed
 * exactly as the report keys it (report_flow_key: the normalised name or
 * the server "addr:port", its test-list category, scanner / injected /
 * reachable), so the views in sql/clickhouse.sql conclude what `tamperscope
 * merge` concludes from the same sensors' reports.
 *
 * Every row holds sensor (--sensor-name), run_id (random per run) and seq
 * (1, 2, ... within the run): (run_id, seq) names a row uniquely, which is
 * how the loader (tools/tamperscope-ch-load) makes a retried insert land
 * once.  weight is 1 for a flow; at the end of the run the certificate
 * consistency's re-labelling is written as kind "relabel" rows (weight n:
 * n flows of the network x name move from relabel_from to verdict), the
 * same second pass the report makes over its own counts.
 *
 * The file is opened for appending (a restarted sensor must not truncate
 * rows no loader has taken yet) and reopened on SIGHUP (rotation).
 */
#ifndef TS_OUT_CLICKHOUSE_H
#define TS_OUT_CLICKHOUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "sink.h"

struct testlist;

#define CH_SENSOR_MAX 255   /* --sensor-name length */

struct out_clickhouse_cfg {
	const char *path;                /* "-": standard output */
	const char *sensor;              /* NULL or "": the host name */
	const struct testlist *testlist; /* the report's --test-list, NULL: none */
};

/* Is s a usable sensor name (1..CH_SENSOR_MAX printable bytes)? */
bool out_clickhouse_sensor_ok(const char *s);

/* Opens the file now.  ctx NULL with err set on failure. */
struct sink out_clickhouse_sink(const struct out_clickhouse_cfg *cfg, char *err, size_t errlen);

#endif
