"""Seed texts and the request mix the demo's producers publish.

Persian texts come in several spellings of the same sentence (Arabic ي/ك, diacritics, kashida,
Arabic-Indic or ASCII digits, missing ZWNJ): normalisation folds them to one cache key, so the
cache hit rate shows what the normaliser is worth.
"""
from __future__ import annotations

import random
from typing import Any

FA = [
    "این محصول واقعاً عالی است و من آن را به همه پیشنهاد می‌کنم",
    "کیفیت خدمات پشتیبانی بسیار ضعیف بود",
    "قیمت‌ها نسبت به سال ۱۴۰۲ دو برابر شده است",
    "ارسال سفارش ۳ روز طول کشید ولی بسته سالم رسید",
    "کتابخانه‌ی مرکزی تهران از ساعت ۸ صبح باز است",
    "هوای امروز شیراز آفتابی و دلپذیر است",
    "رابط کاربری برنامه پیچیده و کند است",
    "تیم فنی مشکل را در کمتر از یک ساعت حل کرد",
]
EN = [
    "The new release is fast and the docs are clear",
    "Support never answered my ticket",
    "Shipping took 3 days but the package arrived intact",
    "The app crashes every time I open the settings page",
    "Great value for the price, would buy again",
    "The battery lasts barely half a day",
]


FA_FRESH = ["سفارش شماره {n} دیروز رسید و کیفیتش خوب بود", "پرواز {n} با تاخیر زیاد انجام شد"]
EN_FRESH = ["Order {n} arrived yesterday in good shape", "Flight {n} was delayed for hours"]


def _variant(text: str, rnd: random.Random) -> str:
    """Another spelling of a Persian sentence (what users actually type)."""
    out = text
    choice = rnd.randrange(5)
    if choice == 1:
        out = out.replace("ی", "ي").replace("ک", "ك")
    elif choice == 2:
        out = out.replace("۰", "0").replace("۱", "1").replace("۲", "2").replace("۳", "3").replace("۸", "8")
    elif choice == 3:
        out = out.replace("ا", "ا").replace("است", "اســـت")
    elif choice == 4:
        out = out.replace("\u200c", " ")
    return out


class RequestMix:
    """Draws the next request's (model, user, text, priority, kind) reproducibly.

    Kinds: ``ok`` (most), ``forbidden`` (a user without the model's permission),
    ``bad_token`` (tampered signature), ``invalid`` (parameters break the schema), ``poison``
    (the model always rejects it: dead-lettered after the subscription's retries).
    """

    def __init__(self, seed: int = 7, *, fresh: float = 0.35, forbidden: float = 0.02, bad_token: float = 0.01,
                 invalid: float = 0.01, poison: float = 0.01) -> None:
        self.rnd = random.Random(seed)
        self.fresh = fresh  # share of texts seen (almost) once: cache misses that reach the model
        self.shares = (("poison", poison), ("invalid", invalid), ("bad_token", bad_token), ("forbidden", forbidden))

    def draw(self) -> dict[str, Any]:
        rnd = self.rnd
        r = rnd.random()
        kind = "ok"
        edge = 0.0
        for name, share in self.shares:
            edge += share
            if r < edge:
                kind = name
                break
        fresh = rnd.random() < self.fresh
        n = rnd.randrange(1_000_000)
        if rnd.random() < 0.65:
            model = rnd.choice(("sentiment-fa", "ner-fa"))
            text = _variant(rnd.choice(FA_FRESH).format(n=n) if fresh else rnd.choice(FA), rnd)
            user = rnd.choice(("alice", "sara"))
        else:
            text = rnd.choice(EN_FRESH).format(n=n) if fresh else rnd.choice(EN)
            model, user = "sentiment-en", rnd.choice(("alice", "bob"))
        if kind == "forbidden":
            user = "mallory" if rnd.random() < 0.5 else ("bob" if model != "sentiment-en" else "sara")
        if kind == "poison":
            text = "\u2620 " + text
        priority = rnd.choices((1, 2, 3, 4, 5), weights=(5, 15, 50, 20, 10))[0]
        return {"kind": kind, "model": model, "user": user, "text": text, "priority": priority}


__all__ = ["EN", "FA", "RequestMix"]
