"""Machine translation (Lecture 17): the model code behind app/lessons/translation/ (pure torch/numpy, no Streamlit).

- `config`: the lesson's shared settings (corpus, EM iterations).
- `corpora`: parallel corpora: a synthetic pair with gold alignments, hand-made English–German, the user's pairs.
- `ibm_model1`: IBM Model 1's t(f | e) learnt by EM, Viterbi alignments, alignment error rate.
- `noisy_channel`: decode a foreign sentence by argmax_e p(e) p(f | e), with an n-gram LM and IBM Model 1.
- `seq2seq`: a tiny GRU encoder-decoder with dot-product attention (attention as a soft alignment), trained live.
- `beam`: beam search as transformers' generate(num_beams=k) does it (with a KV cache), with the hypotheses' tree.
- `llm_prompt`: a causal LM (SmolLM2) prompted few-shot to translate English -> French; beams per width.
- `glossary`: the same prompt with and without a term table; term accuracy, chrF and BLEU.
- `bleu`: BLEU and chrF from sacrebleu, opened up (n-gram precisions, brevity penalty).

    from models.translation import IBMModel1, parallel_corpus, beam_search
    pairs, gold = parallel_corpus("toy")   # [(foreign tokens, English tokens)], gold alignments (or None)
    ibm = IBMModel1(pairs).train(5)        # t(f | e) with a NULL English word, uniform start; ibm.history
    ibm.align(f_tokens, e_tokens)          # Viterbi alignment [(j, i)], i = 0 is NULL

The names below load their module on first use.
"""

from models.lazy import exports

_API = {  # name -> the module that defines it
    "BeamResult": "beam",
    "CachedLMStep": "beam",
    "beam_search": "beam",
    "beam_search_ids": "beam",
    "beam_search_result": "beam",
    "compare_glossary": "glossary",
    "parse_glossary": "glossary",
    "term_hits": "glossary",
    "DecodeConfig": "llm_prompt",
    "beams_by_width": "llm_prompt",
    "translate": "llm_prompt",
    "translation_prompt": "llm_prompt",
    "bleu_report": "bleu",
    "sentence_scores": "bleu",
    "TranslationConfig": "config",
    "CORPORA": "corpora",
    "parallel_corpus": "corpora",
    "parse_pairs": "corpora",
    "toy_corpus": "corpora",
    "NULL": "ibm_model1",
    "IBMModel1": "ibm_model1",
    "aer_by_iteration": "ibm_model1",
    "alignment_error_rate": "ibm_model1",
    "ChannelConfig": "noisy_channel",
    "noisy_channel_decode": "noisy_channel",
    "Seq2SeqConfig": "seq2seq",
    "Seq2SeqTrainer": "seq2seq",
}
__all__ = sorted(_API)
__getattr__ = exports(__name__, _API)
