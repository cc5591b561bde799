"""Retrieval-augmented generation at the input: passages prepended to the question, and what they do to the answer.

RAG (Lewis et al. 2020, https://arxiv.org/abs/2005.11401) and in-context retrieval (Ram et al. 2023,
https://arxiv.org/abs/2302.00083) leave the LM unchanged and put the retrieved text in its prompt:

    log p(answer | passages, question) = Σ_i log p_LM(a_i | prompt(passages, question), a_<i)

summed over the answer's tokens (teacher forcing: the answer's log-probability, whatever the model would have said),
and the greedy answer is what it does say. Comparing the same question with no passage, the retrieved top k, the
gold passage alone and a distractor measures what retrieval adds and how a wrong passage misleads (Shi et al. 2023,
"Large Language Models Can Be Easily Distracted by Irrelevant Context", https://arxiv.org/abs/2302.00093). Nothing
in the output says which passage an answer came from: input augmentation gives no attribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

INSTRUCTION = "Answer the question with a few words, using the passages if they help."
MAX_PROMPT_TOKENS = 2048  # passages beyond this are refused (SmolLM2 reads 8,192; a CPU answers 2,048 in seconds)


def rag_prompt(tokenizer, question: str, passages: list[str] | tuple[str, ...] = ()) -> str:
    """The prompt: the passages, numbered, then the question; in the model's chat format when it has one."""
    question = " ".join((question or "").split())
    if not question:
        raise ValueError("The question is empty: type a question.")
    context = "".join(f"Passage {n}: {' '.join(p.split())}\n" for n, p in enumerate(passages, 1))
    user = f"{INSTRUCTION}\n\n{context}\nQuestion: {question}" if passages else f"Question: {question}"
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
        )
    return f"{user}\nAnswer:"


def _prompt_ids(tokenizer, prompt: str) -> list[int]:
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if len(ids) > MAX_PROMPT_TOKENS:
        raise ValueError(
            f"The prompt is {len(ids):,} tokens; at most {MAX_PROMPT_TOKENS:,} here. Use fewer or shorter passages."
        )
    return ids


@dataclass
class AnswerScore:
    logprob: float  # log p(answer | prompt), summed over the answer's tokens
    token_logprobs: list[float]  # one per answer token
    answer_tokens: list[str]
    prompt_tokens: int  # the prompt's length: what the passages cost


@torch.inference_mode()
def answer_logprobs(model, tokenizer, question: str, answer: str, passages=()) -> AnswerScore:
    """log p(answer | passages, question), token by token."""
    answer = " ".join((answer or "").split())
    if not answer:
        raise ValueError("The answer is empty: type the expected answer.")
    prompt = rag_prompt(tokenizer, question, passages)
    prompt_ids = _prompt_ids(tokenizer, prompt)
    sep = "" if getattr(tokenizer, "chat_template", None) else " "  # chat: the answer opens its own turn
    answer_ids = tokenizer(sep + answer, add_special_tokens=False)["input_ids"]
    device = next(model.parameters()).device
    ids = torch.tensor([prompt_ids + answer_ids], device=device)  # (1, P + A)
    logits = model(ids).logits[0, len(prompt_ids) - 1 : -1].float()  # (A, V): each predicts the next token
    logprobs = torch.log_softmax(logits, dim=-1).gather(1, ids[0, len(prompt_ids) :, None])[:, 0]  # (A,)
    return AnswerScore(
        float(logprobs.sum()),
        logprobs.tolist(),
        tokenizer.convert_ids_to_tokens(answer_ids),
        len(prompt_ids),
    )


def rag_answer_logprob(model, tokenizer, question: str, answer: str, passages=()) -> float:
    """log p(answer | passages, question), summed over the answer's tokens."""
    return answer_logprobs(model, tokenizer, question, answer, passages).logprob


@torch.inference_mode()
def greedy_answer(model, tokenizer, question: str, passages=(), max_new_tokens: int = 20) -> str:
    """What the model says: greedy decoding up to the end of its turn (at most max_new_tokens), on one line."""
    prompt_ids = _prompt_ids(tokenizer, rag_prompt(tokenizer, question, passages))
    ids = torch.tensor([prompt_ids], device=next(model.parameters()).device)
    stop = {tokenizer.eos_token_id, *tokenizer.convert_tokens_to_ids(["<|im_end|>"])} - {None, tokenizer.unk_token_id}
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        do_sample=False,
        eos_token_id=sorted(stop),
        pad_token_id=min(stop),
    )
    return " ".join(tokenizer.decode(out[0, len(prompt_ids) :], skip_special_tokens=True).split())


@dataclass
class Condition:
    name: str  # "no passage", "top 3 retrieved", "gold alone", "distractor alone", "distractor + gold"
    passages: list[int]  # the passage indices in the prompt, in order
    logprob: float  # log p(gold answer | prompt)
    answer: str  # the greedy answer
    correct: bool  # the gold answer appears in the greedy answer
    prompt_tokens: int


def compare_conditions(model, tokenizer, question, answer, passages, retrieved, gold, distractor, greedy=True):
    """The same question under each context: none, the retrieved top k, the gold passage alone, the distractor
    alone, the distractor placed before the gold passage. `passages` are strings; the rest are indices into them
    (`gold` or `distractor` may be None: those conditions are left out)."""
    from models.retrieval.passages import answer_in

    cases = [("no passage", []), (f"top {len(retrieved)} retrieved", list(retrieved))]
    if gold is not None:
        cases.append(("gold alone", [gold]))
    if distractor is not None:
        cases.append(("distractor alone", [distractor]))
    if gold is not None and distractor is not None:
        cases.append(("distractor + gold", [distractor, gold]))
    rows = []
    for name, chosen in cases:
        texts = [passages[i] for i in chosen]
        score = answer_logprobs(model, tokenizer, question, answer, texts)
        said = greedy_answer(model, tokenizer, question, texts) if greedy else ""
        rows.append(Condition(name, chosen, score.logprob, said, answer_in(answer, said), score.prompt_tokens))
    return rows
