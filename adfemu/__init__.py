"""adfemu: run Azure Data Factory pipelines that retrain Azure ML Studio (classic) models, offline."""
