"""Pre-training objectives (Lecture 6): the model code, pure torch (no Streamlit).

    from models.pretraining import mask_tokens, ObjectiveConfig, ObjectiveTrainer, sft_loss
    inputs, labels = mask_tokens(ids, mask_id=..., vocab_size=..., p=0.15, generator=g)  # BERT's rule
    trainer = ObjectiveTrainer(text, ObjectiveConfig(objective="mlm"), seed=0)  # "clm" | "mlm" | "electra"
    trainer.train_steps(50)  # {"loss": ..., "tokens_with_signal": ..., "fill_in": ...}
    trainer.fill_in_accuracy(text)
    loss = sft_loss(logits, input_ids, prompt_lengths)  # mean cross-entropy over the response tokens only

- `masking`: BERT's 80/10/10 masking rule, draw for draw as transformers' DataCollatorForLanguageModeling.
- `objectives`: CLM, MLM and ELECTRA on one tiny transformer, and fill-in-the-blank accuracy.
- `instructions`: SFT's loss on the response only, and instruction tuning in miniature on synthetic tasks.
- `chat`: a chat template's exact tokens, and a model's answer with the template against plain text.

The names below load their module on first use.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "FATES": "masking",
    "fate_counts": "masking",
    "mask_tokens": "masking",
    "mask_with_fates": "masking",
    "OBJECTIVES": "objectives",
    "CharVocab": "objectives",
    "ObjectiveComparison": "objectives",
    "ObjectiveConfig": "objectives",
    "ObjectiveTrainer": "objectives",
    "attention_pattern": "objectives",
    "electra_discriminator_loss": "objectives",
    "loss_positions": "objectives",
    "sft_loss": "instructions",
    "per_token_loss": "instructions",
    "InstructionConfig": "instructions",
    "InstructionTrainer": "instructions",
    "chat_tokens": "chat",
    "template_against_plain": "chat",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
