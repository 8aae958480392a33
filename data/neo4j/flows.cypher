// The systems-and-data-flows graph of the Neo4j example (examples/neo4j/warrant.toml).
// The record of processing activities as a property graph: a data flow is a node that
// names its processor vendor and the data asset it carries:
//   (:DataFlow {id, process, region, started})-[:PROCESSOR]->(:Vendor {id})
//   (:DataFlow)-[:CARRIES]->(:DataAsset {id})
// Same content as data/processing.json, broken records included (a flow without a region,
// a start that is a number, a vendor no source knows), so the gate has work to do.
// Idempotent (MERGE only) and within the Cypher FalkorDB and Neo4j 5 both accept.
// One statement per line group, each ending in `;`.

MERGE (d:DataFlow {id: 'P-0001'}) SET d += {process: 'payroll', region: 'EU', started: '2026-06-01'}
MERGE (v:Vendor {id: 'V001'})
MERGE (a:DataAsset {id: 'DA-001'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0002'}) SET d += {process: 'payroll', region: 'UK', started: '2021-07-02'}
MERGE (v:Vendor {id: 'V001'})
MERGE (a:DataAsset {id: 'DA-001'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0003'}) SET d += {process: 'payroll', region: 'EU', started: '2023-11-21'}
MERGE (v:Vendor {id: 'V001'})
MERGE (a:DataAsset {id: 'DA-002'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0004'}) SET d += {process: 'payroll', region: 'UK', started: '2023-04-01'}
MERGE (v:Vendor {id: 'V001'})
MERGE (a:DataAsset {id: 'DA-002'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0005'}) SET d += {process: 'hosting', region: 'CA', started: '2023-07-30'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-010'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0006'}) SET d += {process: 'hosting', region: 'US', started: '2022-10-31'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-010'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0007'}) SET d += {process: 'hosting', region: 'EU', started: '2025-01-31'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-011'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0008'}) SET d += {process: 'hosting', region: 'US', started: '2024-12-22'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-011'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0009'}) SET d += {process: 'hosting', region: 'EU', started: '2025-12-22'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0010'}) SET d += {process: 'hosting', region: 'UK', started: '2019-08-18'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0011'}) SET d += {process: 'hosting', region: 'EU', started: '2022-12-22'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-024'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0012'}) SET d += {process: 'hosting', region: 'US', started: '2019-12-24'}
MERGE (v:Vendor {id: 'V002'})
MERGE (a:DataAsset {id: 'DA-024'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0013'}) SET d += {process: 'customer-support', region: 'EU', started: '2025-03-01'}
MERGE (v:Vendor {id: 'V003'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0014'}) SET d += {process: 'customer-support', region: 'UK', started: '2024-01-21'}
MERGE (v:Vendor {id: 'V003'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0015'}) SET d += {process: 'customer-support', region: 'EU', started: '2020-10-09'}
MERGE (v:Vendor {id: 'V003'})
MERGE (a:DataAsset {id: 'DA-005'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0016'}) SET d += {process: 'finance', region: 'EU', started: '2021-02-11'}
MERGE (v:Vendor {id: 'V004'})
MERGE (a:DataAsset {id: 'DA-007'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0017'}) SET d += {process: 'finance', region: 'UK', started: '2023-09-30'}
MERGE (v:Vendor {id: 'V004'})
MERGE (a:DataAsset {id: 'DA-007'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0018'}) SET d += {process: 'finance', region: 'EU', started: '2020-10-29'}
MERGE (v:Vendor {id: 'V004'})
MERGE (a:DataAsset {id: 'DA-008'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0019'}) SET d += {process: 'finance', region: 'UK', started: '2019-05-02'}
MERGE (v:Vendor {id: 'V004'})
MERGE (a:DataAsset {id: 'DA-008'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0020'}) SET d += {process: 'recruiting', region: 'UK', started: '2026-04-29'}
MERGE (v:Vendor {id: 'V005'})
MERGE (a:DataAsset {id: 'DA-003'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0021'}) SET d += {process: 'recruiting', region: 'UK', started: '2023-06-06'}
MERGE (v:Vendor {id: 'V005'})
MERGE (a:DataAsset {id: 'DA-025'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0022'}) SET d += {process: 'analytics', region: 'EU', started: '2024-06-08'}
MERGE (v:Vendor {id: 'V006'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0023'}) SET d += {process: 'analytics', region: 'EU', started: '2025-04-23'}
MERGE (v:Vendor {id: 'V006'})
MERGE (a:DataAsset {id: 'DA-006'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0024'}) SET d += {process: 'analytics', region: 'US', started: '2020-03-06'}
MERGE (v:Vendor {id: 'V006'})
MERGE (a:DataAsset {id: 'DA-006'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0025'}) SET d += {process: 'analytics', region: 'US', started: '2019-04-17'}
MERGE (v:Vendor {id: 'V006'})
MERGE (a:DataAsset {id: 'DA-014'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0026'}) SET d += {process: 'legal', region: 'EU', started: '2020-01-02'}
MERGE (v:Vendor {id: 'V007'})
MERGE (a:DataAsset {id: 'DA-023'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0027'}) SET d += {process: 'legal', region: 'UK', started: '2024-08-24'}
MERGE (v:Vendor {id: 'V007'})
MERGE (a:DataAsset {id: 'DA-023'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0028'}) SET d += {process: 'backup', region: 'EU', started: '2022-05-18'}
MERGE (v:Vendor {id: 'V008'})
MERGE (a:DataAsset {id: 'DA-021'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0029'}) SET d += {process: 'backup', region: 'EU', started: '2022-04-26'}
MERGE (v:Vendor {id: 'V008'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0030'}) SET d += {process: 'backup', region: 'UK', started: '2020-01-22'}
MERGE (v:Vendor {id: 'V008'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0031'}) SET d += {process: 'backup', region: 'US', started: '2023-12-04'}
MERGE (v:Vendor {id: 'V008'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0032'}) SET d += {process: 'logistics', region: 'EU', started: '2021-05-23'}
MERGE (v:Vendor {id: 'V009'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0033'}) SET d += {process: 'marketing', region: 'EU', started: '2024-10-27'}
MERGE (v:Vendor {id: 'V010'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0034'}) SET d += {process: 'marketing', region: 'US', started: '2024-03-23'}
MERGE (v:Vendor {id: 'V010'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0035'}) SET d += {process: 'marketing', region: 'EU', started: '2022-03-10'}
MERGE (v:Vendor {id: 'V010'})
MERGE (a:DataAsset {id: 'DA-013'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0036'}) SET d += {process: 'marketing', region: 'UK', started: '2021-09-24'}
MERGE (v:Vendor {id: 'V010'})
MERGE (a:DataAsset {id: 'DA-013'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0037'}) SET d += {process: 'identity-verification', region: 'UK', started: '2024-02-27'}
MERGE (v:Vendor {id: 'V013'})
MERGE (a:DataAsset {id: 'DA-012'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0038'}) SET d += {process: 'identity-verification', region: 'EU', started: '2025-08-16'}
MERGE (v:Vendor {id: 'V013'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0039'}) SET d += {process: 'identity-verification', region: 'UK', started: '2022-04-24'}
MERGE (v:Vendor {id: 'V013'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0040'}) SET d += {process: 'security-monitoring', region: 'EU', started: '2023-02-21'}
MERGE (v:Vendor {id: 'V016'})
MERGE (a:DataAsset {id: 'DA-011'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0041'}) SET d += {process: 'security-monitoring', region: 'US', started: '2021-06-24'}
MERGE (v:Vendor {id: 'V016'})
MERGE (a:DataAsset {id: 'DA-011'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0042'}) SET d += {process: 'security-monitoring', region: 'UK', started: '2024-02-03'}
MERGE (v:Vendor {id: 'V016'})
MERGE (a:DataAsset {id: 'DA-012'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0043'}) SET d += {process: 'security-monitoring', region: 'US', started: '2022-08-04'}
MERGE (v:Vendor {id: 'V016'})
MERGE (a:DataAsset {id: 'DA-012'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0044'}) SET d += {process: 'benefits', region: 'EU', started: '2026-09-18'}
MERGE (v:Vendor {id: 'V017'})
MERGE (a:DataAsset {id: 'DA-017'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0045'}) SET d += {process: 'benefits', region: 'UK', started: '2023-11-08'}
MERGE (v:Vendor {id: 'V017'})
MERGE (a:DataAsset {id: 'DA-017'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0046'}) SET d += {process: 'benefits', region: 'EU', started: '2022-12-30'}
MERGE (v:Vendor {id: 'V017'})
MERGE (a:DataAsset {id: 'DA-018'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0047'}) SET d += {process: 'marketing', region: 'CA', started: '2025-08-21'}
MERGE (v:Vendor {id: 'V018'})
MERGE (a:DataAsset {id: 'DA-015'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0048'}) SET d += {process: 'marketing', region: 'UK', started: '2021-09-04'}
MERGE (v:Vendor {id: 'V018'})
MERGE (a:DataAsset {id: 'DA-015'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0049'}) SET d += {process: 'legal', region: 'EU', started: '2025-08-11'}
MERGE (v:Vendor {id: 'V019'})
MERGE (a:DataAsset {id: 'DA-023'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0050'}) SET d += {process: 'logistics', region: 'EU', started: '2020-04-15'}
MERGE (v:Vendor {id: 'V020'})
MERGE (a:DataAsset {id: 'DA-001'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0051'}) SET d += {process: 'logistics', region: 'UK', started: '2023-10-08'}
MERGE (v:Vendor {id: 'V020'})
MERGE (a:DataAsset {id: 'DA-001'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0052'}) SET d += {process: 'analytics', region: 'UK', started: '2020-09-23'}
MERGE (v:Vendor {id: 'V021'})
MERGE (a:DataAsset {id: 'DA-026'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0053'}) SET d += {process: 'analytics', region: 'US', started: '2020-05-29'}
MERGE (v:Vendor {id: 'V021'})
MERGE (a:DataAsset {id: 'DA-026'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0054'}) SET d += {process: 'travel', region: 'EU', started: '2025-06-03'}
MERGE (v:Vendor {id: 'V022'})
MERGE (a:DataAsset {id: 'DA-020'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0055'}) SET d += {process: 'printing', region: 'CH', started: '2019-07-03'}
MERGE (v:Vendor {id: 'V023'})
MERGE (a:DataAsset {id: 'DA-015'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0056'}) SET d += {process: 'printing', region: 'EU', started: '2020-01-10'}
MERGE (v:Vendor {id: 'V023'})
MERGE (a:DataAsset {id: 'DA-015'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0057'}) SET d += {process: 'printing', region: 'EU', started: '2019-10-28'}
MERGE (v:Vendor {id: 'V023'})
MERGE (a:DataAsset {id: 'DA-028'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0058'}) SET d += {process: 'backup', region: 'EU', started: '2023-12-10'}
MERGE (v:Vendor {id: 'V024'})
MERGE (a:DataAsset {id: 'DA-021'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0059'}) SET d += {process: 'finance', region: 'UK', started: '2020-01-07'}
MERGE (v:Vendor {id: 'V026'})
MERGE (a:DataAsset {id: 'DA-019'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0060'}) SET d += {process: 'finance', region: 'US', started: '2020-01-14'}
MERGE (v:Vendor {id: 'V027'})
MERGE (a:DataAsset {id: 'DA-007'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0061'}) SET d += {process: 'training', region: 'EU', started: '2023-12-05'}
MERGE (v:Vendor {id: 'V028'})
MERGE (a:DataAsset {id: 'DA-027'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0062'}) SET d += {process: 'analytics', region: 'EU', started: '2019-12-12'}
MERGE (v:Vendor {id: 'V029'})
MERGE (a:DataAsset {id: 'DA-006'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0063'}) SET d += {process: 'analytics', region: 'EU', started: '2021-10-14'}
MERGE (v:Vendor {id: 'V029'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0064'}) SET d += {process: 'analytics', region: 'UK', started: '2026-06-09'}
MERGE (v:Vendor {id: 'V029'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0065'}) SET d += {process: 'analytics', region: 'US', started: '2025-10-24'}
MERGE (v:Vendor {id: 'V029'})
MERGE (a:DataAsset {id: 'DA-022'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0066'}) SET d += {process: 'payments', region: 'EU', started: '2023-05-11'}
MERGE (v:Vendor {id: 'V030'})
MERGE (a:DataAsset {id: 'DA-024'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0067'}) SET d += {process: 'printing', region: 'EU', started: '2021-07-05'}
MERGE (v:Vendor {id: 'V032'})
MERGE (a:DataAsset {id: 'DA-028'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0068'}) SET d += {process: 'customer-support', region: 'EU', started: '2023-07-08'}
MERGE (v:Vendor {id: 'V033'})
MERGE (a:DataAsset {id: 'DA-005'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0069'}) SET d += {process: 'customer-support', region: 'UK', started: '2023-09-22'}
MERGE (v:Vendor {id: 'V033'})
MERGE (a:DataAsset {id: 'DA-005'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0070'}) SET d += {process: 'customer-support', region: 'US', started: '2024-09-30'}
MERGE (v:Vendor {id: 'V033'})
MERGE (a:DataAsset {id: 'DA-005'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0071'}) SET d += {process: 'benefits', region: 'EU', started: '2025-12-13'}
MERGE (v:Vendor {id: 'V034'})
MERGE (a:DataAsset {id: 'DA-018'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0072'}) SET d += {process: 'marketing', region: 'EU', started: '2024-10-03'}
MERGE (v:Vendor {id: 'V036'})
MERGE (a:DataAsset {id: 'DA-013'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0073'}) SET d += {process: 'software-development', region: 'CA', started: '2025-02-09'}
MERGE (v:Vendor {id: 'V037'})
MERGE (a:DataAsset {id: 'DA-009'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0074'}) SET d += {process: 'software-development', region: 'UK', started: '2020-08-09'}
MERGE (v:Vendor {id: 'V037'})
MERGE (a:DataAsset {id: 'DA-009'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0075'}) SET d += {process: 'software-development', region: 'EU', started: '2021-02-20'}
MERGE (v:Vendor {id: 'V037'})
MERGE (a:DataAsset {id: 'DA-010'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0076'}) SET d += {process: 'software-development', region: 'US', started: '2025-04-03'}
MERGE (v:Vendor {id: 'V037'})
MERGE (a:DataAsset {id: 'DA-010'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0077'}) SET d += {process: 'marketing', region: 'EU', started: '2025-04-01'}
MERGE (v:Vendor {id: 'V999'})
MERGE (a:DataAsset {id: 'DA-004'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0078'}) SET d += {process: 'identity-verification', started: '2025-07-15'}
MERGE (v:Vendor {id: 'V013'})
MERGE (a:DataAsset {id: 'DA-012'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
MERGE (d:DataFlow {id: 'P-0079'}) SET d += {process: 'finance', region: 'UK', started: 20250315}
MERGE (v:Vendor {id: 'V026'})
MERGE (a:DataAsset {id: 'DA-019'})
MERGE (d)-[:PROCESSOR]->(v)
MERGE (d)-[:CARRIES]->(a);
