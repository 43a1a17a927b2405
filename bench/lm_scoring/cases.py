"""Shared inputs for the llama.cpp comparison: tokenizer strings, scoring cases, the
persona-question workload and the ChatML rendering SmolLM2's template produces."""

SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def chatml(user, system=SYSTEM):
    """The text SmolLM2's chat template renders for one user message, assistant turn open."""
    return (f"<|im_start|>system\n{system}<|im_end|>\n"
            f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n")


TOKENIZER_STRINGS = [
    "Hello",
    "Hello world",
    " leading space and  double  spaces",
    "Héllo wörld, naïve café — 你好 🙂",
    'fn main() { println!("{}", 1234567); }',
    "In 2024, pi was 3.14159 and e^x grew.\n\nNew paragraph\ttab",
    chatml("Is the sky blue? Answer Yes or No."),
]

SCORING_CASES = [
    {"prompt": "The capital of France is", "options": [" Paris", " London", " Berlin", " Madrid"]},
    {"prompt": "Q: Is the sky blue on a clear day?\nA:", "options": [" Yes", " No"]},
    {"prompt": chatml("How much do you agree: 'Taxes on the rich should be raised.'\n"
                      "A. Strongly agree\nB. Agree\nC. Disagree\nD. Strongly disagree\nAnswer with a letter."),
     "options": ["A", "B", "C", "D"]},
    {"prompt": chatml("Which do you prefer, tea or coffee?"),
     "options": ["I prefer tea.", "I prefer coffee.", "Neither, I drink water."]},
    {"prompt": "2 + 2 =", "options": [" 4", " 5", " twenty-two"]},
]

PERSONAS = [
    "a 34-year-old Democrat from California with a college degree",
    "a 67-year-old Republican retiree from rural Texas",
    "a 25-year-old independent software developer in New York",
    "a 52-year-old conservative small-business owner in Ohio",
    "a 41-year-old liberal schoolteacher in Oregon",
    "a 29-year-old moderate nurse in Florida",
    "a 73-year-old veteran in Georgia who rarely follows politics",
    "a 19-year-old first-time voter studying in Michigan",
]

QUESTIONS = [
    "Should the federal minimum wage be raised?",
    "Is climate change mostly caused by human activity?",
    "Should there be stricter gun laws?",
    "Is the economy getting better?",
    "Should college tuition be free at public universities?",
    "Do you trust the national news media?",
    "Should the government regulate social media companies more?",
    "Is immigration good for the country?",
    "Should voting be mandatory?",
    "Are you optimistic about the future of the country?",
]

OPTIONS = ["Strongly agree", "Somewhat agree", "Neither agree nor disagree",
           "Somewhat disagree", "Strongly disagree"]


def persona_prompts():
    """P = 80 persona x question prompts (persona-major, so each persona's preamble repeats)."""
    items = []
    for p, persona in enumerate(PERSONAS):
        for q, question in enumerate(QUESTIONS):
            user = (f"Answer as {persona} would. Think about who you are, where you live and "
                    f"what matters to you before answering.\n\nQuestion: {question}\n"
                    "Reply with one of: " + "; ".join(OPTIONS) + ".")
            items.append({"id": f"p{p}-q{q}", "prompt": chatml(user), "options": OPTIONS})
    return items
