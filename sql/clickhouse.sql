-- sql/clickhouse.sql - tamperscope's flow rows in ClickHouse, and the report's conclusions as views.
--
--   clickhouse-client --multiquery < sql/clickhouse.sql
--   tamperscope -i eth1 --events /var/spool/tamperscope/current.jsonl --events-format clickhouse ...
--   tamperscope-ch-load --url http://localhost:8123/ /var/spool/tamperscope/ready
--
-- Portable SQL: it runs on Debian 12's clickhouse-server 18.16 and on current ClickHouse (no JSON
-- column type, no window functions, one JOIN per SELECT, no DEFAULT or MATERIALIZED columns:
-- 18.16's JSONEachRow fills an absent column with its type's default, and its Distributed
-- inserts refuse MATERIALIZED columns; greatest() of two arguments only, so "the most flows"
-- is arrayReduce('max', ...)).  Re-running the file is harmless (IF NOT EXISTS everywhere).
--
-- Upgrading a database made by an earlier version of this file (18.16 has neither ADD COLUMN IF
-- NOT EXISTS nor CREATE OR REPLACE VIEW): add the columns it lacks, drop the views, run the file:
--
--   ALTER TABLE tamperscope.flows ADD COLUMN quic UInt8 AFTER app_proto_detail;
--   ALTER TABLE tamperscope.flows ADD COLUMN mitm_cause String AFTER one_direction;
--   DROP TABLE tamperscope.blocked; DROP TABLE tamperscope.by_network;
--   DROP TABLE tamperscope.by_domain_network; DROP TABLE tamperscope.names;
--   DROP TABLE tamperscope.run_pairs;
--
-- (with a Distributed table, ALTER flows_local on every shard and the Distributed flows too).
-- Rows of older sensors load unchanged: the new columns read 0 and ''.
--
-- ==== What the views compute, and how each rule of the report maps to SQL ====
--
-- The rules are those of tamperscope(1) REPORTS and src/report.h (src/report_conclude.c);
-- `tamperscope merge` of the sensors' JSON reports and `SELECT * FROM tamperscope.blocked` give
-- the same rows.  Verdicts, in the report's order: ok tls_stall tls_reset syn_timeout syn_reset
-- tls_alert tls_mitm tls_untrusted_cert client_abort incomplete not_tls quic_stall dns_injection
-- dns_blockpage dns_timeout dns_error http_blockpage http_reset http_stall.
--
--   flows, verdict counts  sum(weight) of kind 'flow' rows, scanner = 0 (scanning clients are
--                          counted apart: by_network.scanner_flows, in no conclusion); one
--                          column per verdict
--   other counts           injected: interference flows with injected = 1; quic_flows /
--                          quic_ok_flows: rows with quic = 1 / and ok; mitm_dns_manipulation /
--                          mitm_interception: rows with mitm_cause 'dns_manipulation' /
--                          'interception' (the report's mitm_cause of tls_mitm and
--                          tls_untrusted_cert flows)
--   name of a flow         the row's domain / domain_is_address, written by the sensor with the
--                          report's own key function (out_report_flow_of, report_flow_key):
--                          the normalised name the flow asked for - SNI of TLS or QUIC, else the
--                          HTTP Host, else the DNS question, else the name a DNS answer gave
--                          the server address - else "addr:port" for a measured flow without
--                          one; '' when the flow has no name
--   relabelling            kind 'relabel' rows: the end-of-run certificate consistency moves
--                          weight flows of (run, network, name) from tls_untrusted_cert to
--                          tls_mitm, capped at the pair's tls_untrusted_cert flows in that run;
--                          the pair's blocked times widen to its failure span in that run
--                          (the report keeps no per-flow times for the moved flows either)
--   m, k, a                measured = ok + failures (every verdict but incomplete, not_tls and
--                          client_abort); anomalies = the interference verdicts (tls_stall,
--                          tls_reset, syn_timeout, syn_reset, tls_mitm, quic_stall,
--                          dns_injection, dns_blockpage, dns_timeout, http_blockpage,
--                          http_reset, http_stall; tls_alert, tls_untrusted_cert and dns_error
--                          are failures only); a = k / m
--   method, c              the interference verdict with most flows, ties to the first in
--                          verdict order: best = arrayReduce('max', counts in verdict order),
--                          the method the name at indexOf(counts, best); c = best / k
--   S                      m / (m + 2)
--   X                      1.0 the name had ok flows on another network; 0.5 it was measured
--                          elsewhere and never ok; 0.75 seen on this network only
--   confidence             a * c * S * X, the same IEEE double operations in the same order
--   status                 integer threshold tests as report.h: ok when 10k <= m; blocked when
--                          m >= min_flows, 5k >= 3m, 5 * best >= 3k, and for syn_timeout /
--                          syn_reset corroborated; else inconclusive (no_data when m = 0)
--   QUIC next to TCP       conclude_transports, over the status above: QUIC's measured
--                          q_m = quic_ok_flows + quic_stall, its anomalies q_k = quic_stall;
--                          TLS over TCP's t_m = m - q_m, t_k = k - q_k, t_best / t_method its
--                          most frequent interference verdict (quic_stall left out).  QUIC
--                          blocked: quic_flows > 0, q_k > 0, q_m >= min_flows, 5 q_k >= 3 q_m.
--                          quic_only: QUIC blocked, t_m > 0 and 10 t_k <= t_m: blocked, method
--                          quic_stall, c = 1, S = q_m / (q_m + 2), X = 1 (cross_network keeps
--                          its name), confidence = QUIC's a * c * S (share_strength).
--                          both transports: QUIC blocked, not quic_only, TCP's share passes the
--                          blocked thresholds with a method that needs no corroboration:
--                          blocked, method t_method, methods [t_method, 'quic_stall'],
--                          c = t_best / t_k, confidence = least(QUIC's a * c * S, TCP's) * X.
--                          methods and tcp_ok_flows (ok - quic_ok_flows) only in these two
--                          cases, as in the JSON conclusion; else [] and 0
--   DNS errors             conclude_dns_errors, after that: dns_cross_network when the pair is
--                          not blocked, X is works_elsewhere, e = dns_error > best, m >=
--                          min_flows, 5(k + e) >= 3m and 5e >= 3(k + e): blocked, method
--                          dns_error, c = e / (k + e), confidence = (k + e) / m * c * S * X
--   corroboration          reachable: answers from the server endpoint of an address name,
--                          counted per sensor run in the runs where that name exists (a report
--                          keeps no answered endpoint that never became a name of its own, so
--                          merge cannot see the others; counting them here would conclude what
--                          merge does not); injected: the pair's interference flows with
--                          injection evidence; test_list: the name's category.  Listed, as in
--                          the JSON conclusion, only when the method is syn_timeout or
--                          syn_reset; uncorroborated when that method passed the thresholds
--                          and nothing corroborates it
--   timeline               first/last ok and blocked (interference) start times; onset = first
--                          blocked when an ok flow came first; a time that does not exist
--                          (e.g. the blocked times of a pair blocked by dns_error alone) is 0
--   by_network             the counts per network; dominant_failure the failure verdict with
--                          most flows, ties to the first in verdict order
--
-- Where SQL cannot follow merge exactly, the difference is kept out of tamperscope.blocked:
--   * test-list categories.  merge takes a name's category from the first input report that
--     lists the name (or from its own --test-list), so its answer depends on argument order
--     when sensors loaded different test lists.  Here a category corroborates only when every
--     sensor run agrees on it (category_agreed); a disagreement never makes a pair blocked.
--     Run all sensors with the same --test-list and the two agree.
--   * --min-flows.  The views use the default, 3 (the one literal marked "--min-flows" in
--     by_domain_network); for another value edit it and re-create the views (DROP, then this
--     file).
--   * memory caps.  A sensor's report that hit its memory cap (not_attributed in its JSON) left
--     flows out that its rows still hold; merge cannot count them, these views do.
--   * time windows.  relabel rows carry the end time of their run: a query restricted to a
--     time window sees the move only when the run's end falls inside it.

CREATE DATABASE IF NOT EXISTS tamperscope;

-- One row per flow (kind 'flow', weight 1) and one per end-of-run relabelling (kind 'relabel').
-- Columns are written by --events-format clickhouse in this order; a row with a column this
-- table lacks (a newer sensor) is rejected by JSONEachRow with its line number: add the column
-- (ALTER TABLE tamperscope.flows ADD COLUMN ...) and load the rejected lines again.
CREATE TABLE IF NOT EXISTS tamperscope.flows
(
    run_id String,              -- 64 random bits per sensor run, hex
    seq UInt64,                 -- row number within the run: (run_id, seq) is unique
    sensor String,              -- --sensor-name, default the host name
    kind String,                -- 'flow' or 'relabel'
    weight Int64,               -- flows this row counts: 1, or a relabel's count
    start_us UInt64,            -- flow start, microseconds since the epoch (packet time)
    end_us UInt64,
    timestamp DateTime('UTC'),  -- start_us in seconds (the partition key)
    flow_id UInt64,
    src_ip String,              -- the client (cut to /24 or /48 with --anonymize-clients)
    src_port UInt16,
    dest_ip String,
    dest_port UInt16,
    server_endpoint String,     -- "addr:port" / "[v6]:port", the report's key for answered endpoints
    proto String,
    app_proto String,
    app_proto_detail String,
    quic UInt8,                 -- a QUIC flow (its Initials were seen): the report's quic_flows
    pkts_toserver UInt32,
    pkts_toclient UInt32,
    bytes_toserver UInt64,
    bytes_toclient UInt64,
    sni String,                 -- TLS over TCP's, as sent (non-UTF-8 bytes as \u00XX escapes), ''
                                -- when none (a QUIC flow's name is in domain)
    tls_version String,
    tls_ja3 String,
    tls_ja3s String,
    tls_alpn Array(String),
    tls_ech UInt8,
    domain String,              -- the report's name of the flow, '' when it has none
    domain_is_address UInt8,
    category String,            -- test-list category of the name, '' when not listed
    verdict String,
    ooni_failure String,
    signature String,
    history String,
    end_reason String,
    reason String,
    scanner UInt8,
    injected UInt8,
    reachable UInt8,            -- the server answered the SYN
    residual UInt8,
    one_direction UInt8,
    mitm_cause String,          -- tls_mitm / tls_untrusted_cert whose address DNS explains:
                                -- 'dns_manipulation' or 'interception', else ''
    client_asn UInt32,
    client_as_org String,
    server_asn UInt32,
    server_as_org String,
    cert_trust String,
    cert_match String,
    interception_ca String,
    cert_leaf_subject String,
    cert_leaf_issuer String,
    cert_chain_sha256 Array(String),
    relabel_from String         -- relabel rows: the verdict the flows move from
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(timestamp)
ORDER BY (client_asn, domain, start_us);

-- Per sensor run x network x name (domain '' holds the flows without a name): the counts one
-- sensor's report holds, after its end-of-run relabelling.  The building block of the others.
CREATE VIEW IF NOT EXISTS tamperscope.run_pairs AS
SELECT
    sensor, run_id, asn, domain, domain_is_address, as_org,
    f_category AS category,
    f_flows AS flows,
    f_ok AS ok,
    f_tls_stall AS tls_stall,
    f_tls_reset AS tls_reset,
    f_syn_timeout AS syn_timeout,
    f_syn_reset AS syn_reset,
    f_tls_alert AS tls_alert,
    f_tls_mitm + moved AS tls_mitm,
    f_tls_untrusted_cert - moved AS tls_untrusted_cert,
    f_client_abort AS client_abort,
    f_incomplete AS incomplete,
    f_not_tls AS not_tls,
    f_quic_stall AS quic_stall,
    f_dns_injection AS dns_injection,
    f_dns_blockpage AS dns_blockpage,
    f_dns_timeout AS dns_timeout,
    f_dns_error AS dns_error,
    f_http_blockpage AS http_blockpage,
    f_http_reset AS http_reset,
    f_http_stall AS http_stall,
    f_measured AS measured,
    f_anomalies + moved AS anomalies,
    f_injected AS injected,
    f_mitm_dns AS mitm_dns_manipulation,
    f_mitm_interception AS mitm_interception,
    f_quic_flows AS quic_flows,
    f_quic_ok AS quic_ok_flows,
    f_first_ok_us AS first_ok_us,
    f_last_ok_us AS last_ok_us,
    if(moved > 0, if(f_anomalies > 0, least(f_first_blocked_us, f_first_fail_us), f_first_fail_us),
       f_first_blocked_us) AS first_blocked_us,
    if(moved > 0, if(f_anomalies > 0, greatest(f_last_blocked_us, f_last_fail_us), f_last_fail_us),
       f_last_blocked_us) AS last_blocked_us
FROM
(
    WITH
        kind = 'flow' AS is_flow,
        -- verdict_is_interference and verdict_is_failure of src/verdict.c
        verdict IN ('tls_stall', 'tls_reset', 'syn_timeout', 'syn_reset', 'tls_mitm', 'quic_stall',
                    'dns_injection', 'dns_blockpage', 'dns_timeout', 'http_blockpage', 'http_reset',
                    'http_stall') AS is_interference,
        is_interference OR verdict IN ('tls_alert', 'tls_untrusted_cert', 'dns_error') AS is_failure
    SELECT
        sensor, run_id, client_asn AS asn, domain, domain_is_address,
        anyIf(client_as_org, is_flow) AS as_org,
        max(category) AS f_category,
        sumIf(weight, is_flow) AS f_flows,
        sumIf(weight, is_flow AND verdict = 'ok') AS f_ok,
        sumIf(weight, is_flow AND verdict = 'tls_stall') AS f_tls_stall,
        sumIf(weight, is_flow AND verdict = 'tls_reset') AS f_tls_reset,
        sumIf(weight, is_flow AND verdict = 'syn_timeout') AS f_syn_timeout,
        sumIf(weight, is_flow AND verdict = 'syn_reset') AS f_syn_reset,
        sumIf(weight, is_flow AND verdict = 'tls_alert') AS f_tls_alert,
        sumIf(weight, is_flow AND verdict = 'tls_mitm') AS f_tls_mitm,
        sumIf(weight, is_flow AND verdict = 'tls_untrusted_cert') AS f_tls_untrusted_cert,
        sumIf(weight, is_flow AND verdict = 'client_abort') AS f_client_abort,
        sumIf(weight, is_flow AND verdict = 'incomplete') AS f_incomplete,
        sumIf(weight, is_flow AND verdict = 'not_tls') AS f_not_tls,
        sumIf(weight, is_flow AND verdict = 'quic_stall') AS f_quic_stall,
        sumIf(weight, is_flow AND verdict = 'dns_injection') AS f_dns_injection,
        sumIf(weight, is_flow AND verdict = 'dns_blockpage') AS f_dns_blockpage,
        sumIf(weight, is_flow AND verdict = 'dns_timeout') AS f_dns_timeout,
        sumIf(weight, is_flow AND verdict = 'dns_error') AS f_dns_error,
        sumIf(weight, is_flow AND verdict = 'http_blockpage') AS f_http_blockpage,
        sumIf(weight, is_flow AND verdict = 'http_reset') AS f_http_reset,
        sumIf(weight, is_flow AND verdict = 'http_stall') AS f_http_stall,
        -- a relabelling moves flows between two failures: measured stays
        sumIf(weight, is_flow AND (verdict = 'ok' OR is_failure)) AS f_measured,
        sumIf(weight, is_flow AND is_interference) AS f_anomalies,
        sumIf(weight, is_flow AND is_interference AND injected = 1) AS f_injected,
        sumIf(weight, is_flow AND mitm_cause = 'dns_manipulation') AS f_mitm_dns,
        sumIf(weight, is_flow AND mitm_cause = 'interception') AS f_mitm_interception,
        sumIf(weight, is_flow AND quic = 1) AS f_quic_flows,
        sumIf(weight, is_flow AND quic = 1 AND verdict = 'ok') AS f_quic_ok,
        least(sumIf(weight, kind = 'relabel' AND verdict = 'tls_mitm'
                    AND relabel_from = 'tls_untrusted_cert'), f_tls_untrusted_cert) AS moved,
        minIf(start_us, is_flow AND verdict = 'ok') AS f_first_ok_us,
        maxIf(start_us, is_flow AND verdict = 'ok') AS f_last_ok_us,
        minIf(start_us, is_flow AND is_interference) AS f_first_blocked_us,
        maxIf(start_us, is_flow AND is_interference) AS f_last_blocked_us,
        minIf(start_us, is_flow AND is_failure) AS f_first_fail_us,
        maxIf(start_us, is_flow AND is_failure) AS f_last_fail_us
    FROM tamperscope.flows
    WHERE scanner = 0
    GROUP BY sensor, run_id, client_asn, domain, domain_is_address
    HAVING f_flows > 0
);

-- Per name over every network and run: what the cross-network factor and the corroboration read.
CREATE VIEW IF NOT EXISTS tamperscope.names AS
SELECT
    domain, domain_is_address,
    max(r_category) AS category,
    uniqExact(r_category) = 1 AND max(r_category) != '' AS category_agreed,
    sum(r_ok) AS ok,
    sum(r_measured) AS measured,
    sum(r_reachable) AS reachable_flows
FROM
(
    SELECT sensor, run_id, domain, domain_is_address, r_category, r_ok, r_measured, r_reachable
    FROM
    (
        SELECT sensor, run_id, domain, domain_is_address,
            max(category) AS r_category,
            sum(ok) AS r_ok,
            sum(measured) AS r_measured
        FROM tamperscope.run_pairs
        WHERE domain != ''
        GROUP BY sensor, run_id, domain, domain_is_address
    )
    ANY LEFT JOIN
    (
        -- answered endpoints, per run: every flow counts, scanners' too, as in the report (a
        -- DNS transaction's endpoint is its resolver, answered when a response came)
        SELECT sensor, run_id, server_endpoint AS domain, toUInt8(1) AS domain_is_address,
            sum(weight) AS r_reachable
        FROM tamperscope.flows
        WHERE kind = 'flow' AND reachable = 1
        GROUP BY sensor, run_id, server_endpoint
    ) USING (sensor, run_id, domain, domain_is_address)
)
GROUP BY domain, domain_is_address;

-- Per network x name: counts, the blocking conclusion and the timeline (the report's
-- by_domain_network).
CREATE VIEW IF NOT EXISTS tamperscope.by_domain_network AS
SELECT
    asn, as_org, domain, domain_is_address, category,
    flows, ok, tls_stall, tls_reset, syn_timeout, syn_reset, tls_alert, tls_mitm,
    tls_untrusted_cert, client_abort, incomplete, not_tls, quic_stall, dns_injection,
    dns_blockpage, dns_timeout, dns_error, http_blockpage, http_reset, http_stall,
    measured, anomalies, injected, mitm_dns_manipulation, mitm_interception, quic_flows,
    quic_ok_flows, anomaly_share,
    if(quic_only OR both_transports OR dns_cross_network, 'blocked', status0) AS status,
    status = 'blocked' AS blocked,
    multiIf(quic_only, 'quic_stall', both_transports, t_method, dns_cross_network, 'dns_error',
            method0) AS method,
    multiIf(quic_only, ['quic_stall'], both_transports, [t_method, 'quic_stall'],
            emptyArrayString()) AS methods,
    if(quic_only OR both_transports, ok - quic_ok_flows, 0) AS tcp_ok_flows,
    multiIf(quic_only, 1., both_transports, t_best / t_anomalies,
            dns_cross_network, dns_error / (anomalies + dns_error), consistency0) AS consistency,
    if(quic_only, q_measured / (q_measured + 2.), sample0) AS sample_factor,
    cross_network,
    if(quic_only, 1., cross0) AS cross_factor,
    multiIf(quic_only, q_strength,
            both_transports, least(q_strength, t_strength) * cross0,
            dns_cross_network,
                (anomalies + dns_error) / measured * (dns_error / (anomalies + dns_error)) * sample0
                * cross0,
            confidence0) AS confidence,
    quic_only,
    dns_cross_network,
    if(method IN ('syn_timeout', 'syn_reset'), corroborated_by, emptyArrayString())
        AS corroboration,
    method IN ('syn_timeout', 'syn_reset') AND passes AND empty(corroborated_by) AS uncorroborated,
    ok > 0 AS has_ok,
    anomalies > 0 AS has_blocked,
    p_first_ok_us AS first_ok_us,
    p_last_ok_us AS last_ok_us,
    p_first_blocked_us AS first_blocked_us,
    p_last_blocked_us AS last_blocked_us,
    toDateTime(intDiv(p_first_ok_us, 1000000), 'UTC') AS first_ok,
    toDateTime(intDiv(p_last_ok_us, 1000000), 'UTC') AS last_ok,
    toDateTime(intDiv(p_first_blocked_us, 1000000), 'UTC') AS first_blocked,
    toDateTime(intDiv(p_last_blocked_us, 1000000), 'UTC') AS last_blocked,
    has_blocked AND has_ok AND p_first_ok_us < p_first_blocked_us AS has_onset,
    if(has_onset, p_first_blocked_us, 0) AS onset_us,
    toDateTime(intDiv(onset_us, 1000000), 'UTC') AS onset
FROM
(
    -- the tests of report_conclude.c: conclude(), then conclude_transports(), then
    -- conclude_dns_errors(), each over what the one before decided; the outer SELECT takes the
    -- last that applies, as each of them overwrites the conclusion
    WITH 3 /* --min-flows */ AS min_flows
    SELECT *,
        measured >= min_flows AND anomalies * 5 >= measured * 3 AND best * 5 >= anomalies * 3
            AS passes,
        multiIf(measured = 0, 'no_data',
                anomalies * 10 <= measured, 'ok',
                passes AND (method0 NOT IN ('syn_timeout', 'syn_reset')
                            OR notEmpty(corroborated_by)), 'blocked',
                'inconclusive') AS status0,
        quic_flows > 0 AND q_anomalies > 0 AND q_measured >= min_flows
            AND q_anomalies * 5 >= q_measured * 3 AS quic_blocked,
        quic_blocked AND t_measured > 0 AND t_anomalies * 10 <= t_measured AS quic_only,
        quic_blocked AND NOT quic_only AND t_measured >= min_flows
            AND t_anomalies * 5 >= t_measured * 3 AND t_best * 5 >= t_anomalies * 3
            AND t_method NOT IN ('syn_timeout', 'syn_reset') AS both_transports,
        dns_error > 0 AND status0 != 'blocked' AND NOT quic_only AND NOT both_transports
            AND cross_network = 'works_elsewhere' AND dns_error > best AND measured >= min_flows
            AND (anomalies + dns_error) * 5 >= measured * 3
            AND dns_error * 5 >= (anomalies + dns_error) * 3 AS dns_cross_network
    FROM
    (
        SELECT
            asn, domain, domain_is_address, category, p_first_ok_us, p_last_ok_us,
            p_first_blocked_us, p_last_blocked_us,
            p_as_org AS as_org, p_flows AS flows, p_ok AS ok, p_tls_stall AS tls_stall,
            p_tls_reset AS tls_reset, p_syn_timeout AS syn_timeout, p_syn_reset AS syn_reset,
            p_tls_alert AS tls_alert, p_tls_mitm AS tls_mitm, p_tls_untrusted_cert AS tls_untrusted_cert,
            p_client_abort AS client_abort, p_incomplete AS incomplete, p_not_tls AS not_tls,
            p_quic_stall AS quic_stall, p_dns_injection AS dns_injection,
            p_dns_blockpage AS dns_blockpage, p_dns_timeout AS dns_timeout, p_dns_error AS dns_error,
            p_http_blockpage AS http_blockpage, p_http_reset AS http_reset, p_http_stall AS http_stall,
            p_measured AS measured, p_anomalies AS anomalies, p_injected AS injected,
            p_mitm_dns AS mitm_dns_manipulation, p_mitm_interception AS mitm_interception,
            p_quic_flows AS quic_flows, p_quic_ok AS quic_ok_flows,
            -- conclude(): the interference verdicts in verdict order
            ['tls_stall', 'tls_reset', 'syn_timeout', 'syn_reset', 'tls_mitm', 'quic_stall',
             'dns_injection', 'dns_blockpage', 'dns_timeout', 'http_blockpage', 'http_reset',
             'http_stall'] AS interference_names,
            [tls_stall, tls_reset, syn_timeout, syn_reset, tls_mitm, quic_stall, dns_injection,
             dns_blockpage, dns_timeout, http_blockpage, http_reset, http_stall]
                AS interference_counts,
            arrayReduce('max', interference_counts) AS best,
            if(best = 0, '', interference_names[indexOf(interference_counts, best)]) AS method0,
            if(measured > 0, anomalies / measured, 0.) AS anomaly_share,
            if(anomalies > 0, best / anomalies, 0.) AS consistency0,
            measured / (measured + 2.) AS sample0,
            multiIf(n_ok - ok > 0, 'works_elsewhere', n_measured - measured > 0, 'fails_elsewhere',
                    'only_here') AS cross_network,
            multiIf(n_ok - ok > 0, 1., n_measured - measured > 0, 0.5, 0.75) AS cross0,
            anomaly_share * consistency0 * sample0 * cross0 AS confidence0,
            arrayFilter(x -> x != '', [if(n_reachable > 0, 'reachable', ''),
                                       if(injected > 0, 'injected', ''),
                                       if(n_category_agreed, 'test_list', '')]) AS corroborated_by,
            -- conclude_transports(): QUIC's share (quic_stall is its only failure) and the rest's
            quic_stall AS q_anomalies,
            quic_ok_flows + quic_stall AS q_measured,
            measured - q_measured AS t_measured,
            anomalies - q_anomalies AS t_anomalies,
            -- the same places, quic_stall's left empty, so t_method reads interference_names
            [tls_stall, tls_reset, syn_timeout, syn_reset, tls_mitm, toInt64(0), dns_injection,
             dns_blockpage, dns_timeout, http_blockpage, http_reset, http_stall] AS t_counts,
            arrayReduce('max', t_counts) AS t_best,
            if(t_best = 0, '', interference_names[indexOf(t_counts, t_best)]) AS t_method,
            -- share_strength(): a * c * S of one transport
            if(q_measured > 0 AND q_anomalies > 0,
               q_anomalies / q_measured * (q_anomalies / q_anomalies)
                   * (q_measured / (q_measured + 2.)),
               0.) AS q_strength,
            if(t_measured > 0 AND t_anomalies > 0,
               t_anomalies / t_measured * (t_best / t_anomalies) * (t_measured / (t_measured + 2.)),
               0.) AS t_strength
        FROM
        (
            SELECT
                asn, domain, domain_is_address,
                any(as_org) AS p_as_org,
                sum(flows) AS p_flows, sum(ok) AS p_ok, sum(tls_stall) AS p_tls_stall,
                sum(tls_reset) AS p_tls_reset, sum(syn_timeout) AS p_syn_timeout,
                sum(syn_reset) AS p_syn_reset, sum(tls_alert) AS p_tls_alert, sum(tls_mitm) AS p_tls_mitm,
                sum(tls_untrusted_cert) AS p_tls_untrusted_cert, sum(client_abort) AS p_client_abort,
                sum(incomplete) AS p_incomplete, sum(not_tls) AS p_not_tls,
                sum(quic_stall) AS p_quic_stall, sum(dns_injection) AS p_dns_injection,
                sum(dns_blockpage) AS p_dns_blockpage, sum(dns_timeout) AS p_dns_timeout,
                sum(dns_error) AS p_dns_error, sum(http_blockpage) AS p_http_blockpage,
                sum(http_reset) AS p_http_reset, sum(http_stall) AS p_http_stall,
                sum(measured) AS p_measured, sum(anomalies) AS p_anomalies, sum(injected) AS p_injected,
                sum(mitm_dns_manipulation) AS p_mitm_dns, sum(mitm_interception) AS p_mitm_interception,
                sum(quic_flows) AS p_quic_flows, sum(quic_ok_flows) AS p_quic_ok,
                minIf(first_ok_us, ok > 0) AS p_first_ok_us,
                maxIf(last_ok_us, ok > 0) AS p_last_ok_us,
                minIf(first_blocked_us, anomalies > 0) AS p_first_blocked_us,
                maxIf(last_blocked_us, anomalies > 0) AS p_last_blocked_us
            FROM tamperscope.run_pairs
            WHERE domain != ''
            GROUP BY asn, domain, domain_is_address
        )
        ANY LEFT JOIN
        (
            SELECT domain, domain_is_address, category, category_agreed AS n_category_agreed,
                ok AS n_ok, measured AS n_measured, reachable_flows AS n_reachable
            FROM tamperscope.names
        ) USING (domain, domain_is_address)
    )
);

-- The conclusions: every network x name that is blocked, as `tamperscope merge` draws them
-- (methods: both transports' methods, or quic_stall alone while TLS over TCP works; otherwise
-- empty).
CREATE VIEW IF NOT EXISTS tamperscope.blocked AS
SELECT asn, domain AS name, method, confidence, flows, anomalies, first_blocked, last_blocked,
    first_blocked_us, last_blocked_us, onset, onset_us, as_org, domain_is_address, category,
    corroboration, methods, tcp_ok_flows, dns_cross_network, consistency, sample_factor,
    cross_network, cross_factor
FROM tamperscope.by_domain_network
WHERE status = 'blocked';

-- Per network: counts, the dominant failure, scanners' flows apart, names and blocked names
-- (the report's by_network).
CREATE VIEW IF NOT EXISTS tamperscope.by_network AS
SELECT
    asn, as_org, flows, ok, tls_stall, tls_reset, syn_timeout, syn_reset, tls_alert, tls_mitm,
    tls_untrusted_cert, client_abort, incomplete, not_tls, quic_stall, dns_injection,
    dns_blockpage, dns_timeout, dns_error, http_blockpage, http_reset, http_stall,
    measured, anomalies, injected, mitm_dns_manipulation, mitm_interception, quic_flows,
    quic_ok_flows,
    if(measured > 0, anomalies / measured, 0.) AS anomaly_share,
    if(worst = 0, '',
       ['tls_stall', 'tls_reset', 'syn_timeout', 'syn_reset', 'tls_alert', 'tls_mitm',
        'tls_untrusted_cert', 'quic_stall', 'dns_injection', 'dns_blockpage', 'dns_timeout',
        'dns_error', 'http_blockpage', 'http_reset', 'http_stall'][indexOf(failure_counts, worst)])
        AS dominant_failure,
    if(worst > 0, worst / (measured - ok), 0.) AS dominant_failure_share,
    scanner_flows, domains, blocked_domains
FROM
(
    SELECT
        asn, scanner_flows, domains, blocked_domains,
        if(n_as_org != '', n_as_org, net_org) AS as_org,
        n_flows AS flows, n_ok AS ok, n_tls_stall AS tls_stall, n_tls_reset AS tls_reset,
        n_syn_timeout AS syn_timeout, n_syn_reset AS syn_reset, n_tls_alert AS tls_alert,
        n_tls_mitm AS tls_mitm, n_tls_untrusted_cert AS tls_untrusted_cert,
        n_client_abort AS client_abort, n_incomplete AS incomplete, n_not_tls AS not_tls,
        n_quic_stall AS quic_stall, n_dns_injection AS dns_injection,
        n_dns_blockpage AS dns_blockpage, n_dns_timeout AS dns_timeout, n_dns_error AS dns_error,
        n_http_blockpage AS http_blockpage, n_http_reset AS http_reset,
        n_http_stall AS http_stall, n_measured AS measured, n_anomalies AS anomalies,
        n_injected AS injected, n_mitm_dns AS mitm_dns_manipulation,
        n_mitm_interception AS mitm_interception, n_quic_flows AS quic_flows,
        n_quic_ok AS quic_ok_flows,
        -- the failure verdicts in verdict order (report_counts_share's dominant)
        [tls_stall, tls_reset, syn_timeout, syn_reset, tls_alert, tls_mitm, tls_untrusted_cert,
         quic_stall, dns_injection, dns_blockpage, dns_timeout, dns_error, http_blockpage,
         http_reset, http_stall] AS failure_counts,
        arrayReduce('max', failure_counts) AS worst
    FROM
    (
        SELECT *
        FROM
        (
            -- every network with a flow, scanners' included (a network of scanners only is
            -- listed with no counts, as in the report)
            SELECT client_asn AS asn, anyIf(client_as_org, kind = 'flow') AS net_org,
                sumIf(weight, kind = 'flow' AND scanner = 1) AS scanner_flows
            FROM tamperscope.flows
            WHERE kind = 'flow'
            GROUP BY client_asn
        )
        ANY LEFT JOIN
        (
            SELECT asn, any(as_org) AS n_as_org,
                sum(flows) AS n_flows, sum(ok) AS n_ok, sum(tls_stall) AS n_tls_stall,
                sum(tls_reset) AS n_tls_reset, sum(syn_timeout) AS n_syn_timeout,
                sum(syn_reset) AS n_syn_reset, sum(tls_alert) AS n_tls_alert,
                sum(tls_mitm) AS n_tls_mitm, sum(tls_untrusted_cert) AS n_tls_untrusted_cert,
                sum(client_abort) AS n_client_abort, sum(incomplete) AS n_incomplete,
                sum(not_tls) AS n_not_tls, sum(quic_stall) AS n_quic_stall,
                sum(dns_injection) AS n_dns_injection, sum(dns_blockpage) AS n_dns_blockpage,
                sum(dns_timeout) AS n_dns_timeout, sum(dns_error) AS n_dns_error,
                sum(http_blockpage) AS n_http_blockpage, sum(http_reset) AS n_http_reset,
                sum(http_stall) AS n_http_stall, sum(measured) AS n_measured,
                sum(anomalies) AS n_anomalies, sum(injected) AS n_injected,
                sum(mitm_dns_manipulation) AS n_mitm_dns,
                sum(mitm_interception) AS n_mitm_interception,
                sum(quic_flows) AS n_quic_flows, sum(quic_ok_flows) AS n_quic_ok
            FROM tamperscope.run_pairs
            GROUP BY asn
        ) USING (asn)
    )
    ANY LEFT JOIN
    (
        SELECT asn, count() AS domains, countIf(blocked) AS blocked_domains
        FROM tamperscope.by_domain_network
        GROUP BY asn
    ) USING (asn)
);

-- ==== Many servers: a Distributed table over a cluster of shards ====
--
-- Each shard keeps its rows in a MergeTree table, tamperscope.flows_local; on every server,
-- tamperscope.flows becomes a Distributed table over all shards' flows_local, so the views
-- above run unchanged on any server and see the whole cluster.  Declare the cluster in every
-- server's configuration (<remote_servers>: here a cluster named "tamperscope" with one <shard>
-- per server), run this file on every server, then on every server:
--
-- BEGIN DISTRIBUTED EXAMPLE
-- RENAME TABLE tamperscope.flows TO tamperscope.flows_local;
-- CREATE TABLE tamperscope.flows AS tamperscope.flows_local
--     ENGINE = Distributed(tamperscope, tamperscope, flows_local, cityHash64(sensor));
-- END DISTRIBUTED EXAMPLE
--
-- Loading: straight into a shard's tamperscope.flows_local (each sensor's loader pointed at
-- one shard), or into tamperscope.flows, which sends each row to the shard of its sensor
-- (cityHash64(sensor)); then load with insert_distributed_sync=1 (tamperscope-ch-load
-- --setting insert_distributed_sync=1) so that an insert has reached its shard when it is
-- acknowledged, which the loader's exactly-once check relies on.
--
-- Aggregates over a Distributed table run on the shards and merge on the server asked; the
-- views join only the results of such aggregates (subqueries), never a Distributed table with
-- another one, so no GLOBAL JOIN is needed and the answer is the single server's.
