"""Person linkage across the provider, LAS and GP sources.

Public API:
- `linkage.records.person_records(staged)`: canonical person records, one per source mention.
- `linkage.model.train_model / approve_model / current_model / load_model`: the Splink model,
  saved with carelink metadata; only an approved model (named by `current.json`) is used
  unattended.
- `linkage.clusters.cluster_records(...)`: scoring, clustering and the over-link / opt-out
  guards.
- `linkage.keys.assign_keys(...)`: stable, opaque person keys.
- `linkage.relationships.caring_relationships(staged, xref)`: who cares for whom, and why
  it ended.
- `linkage.nightly.link_night(...)`: the pipeline's linkage step (files + IG report).
- `linkage.cli_link.link_csv_files(...)`: the `carelink link` command.
"""
