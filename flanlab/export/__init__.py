"""Tuned models and tasks that leave the harness.

* ``saving``: what a trained cell keeps of its model (``train.save_model``), written atomically into the cell;
* ``cell_model``: finding and loading what a cell kept;
* ``folder``, ``card`` and ``licences``: a folder that plain ``transformers`` / ``peft`` load, with a model card;
* ``push``: that folder to the Hugging Face hub in one commit;
* ``lm_eval_tasks``: flanlab's scored prompts as lm-evaluation-harness tasks over local JSONL files, scored by
  ``flanlab.metrics.portable`` (copied beside them as ``utils.py``).

Nothing written here needs flanlab to be read back (docs/export.md).
"""
