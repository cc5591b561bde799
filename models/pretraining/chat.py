"""Chat templates: what an instruction-tuned model actually reads, and what changes without the template.

A chat model is fine-tuned on conversations serialised by its template (for SmolLM2-Instruct, ChatML:
`<|im_start|>user\\n...<|im_end|>\\n<|im_start|>assistant\\n`), with the loss on the assistant's turns
(models/pretraining/instructions.py). At inference the same template must wrap the question: the special tokens
tell the model whose turn it is, and `add_generation_prompt` opens the assistant's turn. The same question as plain
text is a document to continue, not a question to answer.

Self-Instruct (Wang et al. 2023, https://arxiv.org/abs/2212.10560) grows an instruction set by showing a model a few
instructions and asking for a new one; Evol-Instruct (Xu et al. 2023, WizardLM) asks it to rewrite one into a
harder one. `self_instruct_prompt` builds such a request.
"""

from __future__ import annotations

import torch

from models.pretraining.instructions import check_chat

SEED_INSTRUCTIONS = [
    "Give three tips for staying healthy.",
    "Translate 'good morning' into French.",
    "Write a haiku about the sea.",
    "Explain what a noun is to a child.",
]


def chat_text(tokenizer, turns: list[dict], add_generation_prompt: bool = True) -> str:
    """The conversation as the template writes it (a string)."""
    return tokenizer.apply_chat_template(check_chat(turns), tokenize=False, add_generation_prompt=add_generation_prompt)


def chat_tokens(tokenizer, turns: list[dict], add_generation_prompt: bool = True) -> list[dict]:
    """Every token `apply_chat_template` produces: [{"id", "token", "special"}], in order."""
    ids = tokenizer.apply_chat_template(check_chat(turns), tokenize=True, add_generation_prompt=add_generation_prompt)
    if isinstance(ids, dict) or hasattr(ids, "keys"):  # a BatchEncoding in some versions
        ids = ids["input_ids"]
    special = set(tokenizer.all_special_ids)
    return [{"id": int(i), "token": tokenizer.convert_ids_to_tokens(int(i)), "special": int(i) in special} for i in ids]


@torch.no_grad()
def next_token_and_answer(model, tokenizer, ids: list[int], top: int = 8, max_new_tokens: int = 30) -> dict:
    """The next-token distribution's top entries after `ids`, and the greedy continuation (max_new_tokens)."""
    device = next(model.parameters()).device
    input_ids = torch.tensor([ids], device=device)
    logits = model(input_ids).logits[0, -1].float()
    probs = torch.softmax(logits, dim=-1)
    values, indices = probs.topk(top)
    distribution = [{"token": tokenizer.decode([int(i)]), "probability": float(v)} for v, i in zip(values, indices)]
    answer = ""
    if max_new_tokens > 0:
        out = model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=False,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.eos_token_id,
        )
        answer = tokenizer.decode(out[0, len(ids) :], skip_special_tokens=True)
    return {"top": distribution, "answer": answer}


def template_against_plain(model, tokenizer, question: str, top: int = 8, max_new_tokens: int = 30) -> dict:
    """{"chat template": ..., "plain text": ...}: the same question wrapped by the template and as it is."""
    if not question or not question.strip():
        raise ValueError("The question is empty: type a question for the model.")
    templated = [t["id"] for t in chat_tokens(tokenizer, [{"role": "user", "content": question}])]
    plain = tokenizer(question)["input_ids"]
    return {
        "chat template": next_token_and_answer(model, tokenizer, templated, top, max_new_tokens),
        "plain text": next_token_and_answer(model, tokenizer, plain, top, max_new_tokens),
    }


def self_instruct_prompt(seed_instructions: list[str] = SEED_INSTRUCTIONS) -> list[dict]:
    """A Self-Instruct request as a conversation: a few task instructions, then ask for one new one."""
    listed = "\n".join(f"{i + 1}. {s}" for i, s in enumerate(seed_instructions))
    return [
        {
            "role": "user",
            "content": f"Here are some tasks:\n{listed}\nWrite one new, different task in the same style. "
            "Reply with the task only.",
        }
    ]
