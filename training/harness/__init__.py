"""Adapters that let the two evaluation harnesses people use run our checkpoints: lmms-eval
(`lmms_eval_model`, registered as `pixmo_molmo`) and VLMEvalKit (`vlmeval_model`). Only those two
modules import a harness; `prompting` is plain and shared. Install: training/README.md,
"Evaluation harnesses"."""
