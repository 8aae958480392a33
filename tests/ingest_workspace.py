"""A small purpose-built workspace for ingest tests: two CSV sources, mappings and shapes.

Written into a temporary folder by each test so tests can break and fix files freely.
"""

from __future__ import annotations

from pathlib import Path

TEAMS_CSV = """team_id,name,budget
T1,Platform,100
T2,Data,200
"""

PEOPLE_CSV = """person_id,name,team,age
P1,Ada,T1,36
P2,Grace,T2,45
P3,Linus,T1,29
"""

TEAMS_MAPPING = """prefixes:
  ex: "https://example.org/ns#"
  id: "https://example.org/id/"
mappings:
  team:
    sources:
      - ['data/teams.csv~csv']
    s: id:team/$(team_id)
    po:
      - [a, ex:Team]
      - [ex:name, $(name)]
      - [ex:budget, $(budget), xsd:integer]
"""

PEOPLE_MAPPING = """prefixes:
  ex: "https://example.org/ns#"
  id: "https://example.org/id/"
mappings:
  person:
    sources:
      - ['data/people.csv~csv']
    s: id:person/$(person_id)
    po:
      - [a, ex:Person]
      - [ex:name, $(name)]
      - [ex:team, id:team/$(team)~iri]
      - [ex:age, $(age), xsd:integer]
"""

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ex: <https://example.org/ns#> .
@prefix s: <https://example.org/shapes#> .

<https://example.org/shapes> a owl:Ontology ; owl:versionInfo "{version}" .

s:Person a sh:NodeShape ;
  sh:targetClass ex:Person ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ] ;
  sh:property [ sh:path ex:age ; sh:datatype xsd:integer ; sh:maxInclusive {max_age} ] ;
  sh:property [ sh:path ex:team ; sh:minCount 1 ; sh:class ex:Team ] .

s:Team a sh:NodeShape ;
  sh:targetClass ex:Team ;
  sh:property [ sh:path ex:name ; sh:minCount 1 ] ;
  sh:property [ sh:path ex:budget ; sh:datatype xsd:integer ;
                sh:minInclusive 0 ; sh:severity sh:Warning ] .
"""

TOML = """[project]
name = "ingest-test"

[sources.teams]
type = "csv"
path = "data/teams.csv"
mapping = "mappings/teams.yaml"
shapes = ["shapes/people.shapes.ttl"]

[sources.people]
type = "csv"
path = "data/people.csv"
mapping = "mappings/people.yaml"
shapes = ["shapes/people.shapes.ttl"]
"""


def write_workspace(
    root: Path,
    *,
    people: str = PEOPLE_CSV,
    teams: str = TEAMS_CSV,
    version: str = "1.0.0",
    max_age: int = 120,
) -> Path:
    """Write the workspace files into ``root`` and return it."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    (root / "shapes").mkdir(exist_ok=True)
    (root / "data" / "teams.csv").write_text(teams)
    (root / "data" / "people.csv").write_text(people)
    (root / "mappings" / "teams.yaml").write_text(TEAMS_MAPPING)
    (root / "mappings" / "people.yaml").write_text(PEOPLE_MAPPING)
    (root / "shapes" / "people.shapes.ttl").write_text(
        SHAPES.replace("{version}", version).replace("{max_age}", str(max_age))
    )
    (root / "warrant.toml").write_text(TOML)
    return root
