"""The eleven academic benchmarks of Molmo's average, from local files, with their official metrics.

`formats` reads VLMEvalKit TSVs and Hugging Face parquet; `registry` is the table of benchmarks
(style prefix, prompt template, metric); `prompts` turns rows into items; `metrics` holds the
official metrics (VQA accuracy, ANLS, relaxed accuracy, option extraction, counting);
`scoring` scores predictions; `runner` asks a checkpoint and writes RUN/eval/."""
