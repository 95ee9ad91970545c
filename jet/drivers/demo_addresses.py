"""Postal details for the demo's customers, so that its invoices, statements and paper run
look like a real operator's: street addresses in each realm's country (Australia for
Acme, New Zealand for SkyFi, Berlin for EuroWave), tax ids that pass their checksums
(an ABN, an NZ GST number, a German VAT number), and a few customers whose names and
home addresses are in Greek or Cyrillic: visitors on SkyFi's travel kits, residents
of Berlin at EuroWave.

Every function draws from the generator it is given, so the same seed gives the same
details."""

from __future__ import annotations

import numpy as np
from stdnum.au import abn
from stdnum.eu import vat as eu_vat
from stdnum.iso7064 import mod_11_10
from stdnum.nz import ird

STREET_TYPES = ("Street", "Road", "Avenue", "Parade", "Crescent", "Lane", "Place", "Drive")
AU_STREETS = (
    "George", "King", "Church", "Victoria", "Albert", "High", "Station", "Park", "Beach",
    "Railway", "Queen", "William", "Elizabeth", "Bridge", "Mill", "Wattle", "Banksia",
)  # fmt: skip
AU_SUBURBS = (
    ("Parramatta", "NSW", "2150"), ("Newtown", "NSW", "2042"), ("Manly", "NSW", "2095"),
    ("Chatswood", "NSW", "2067"), ("Bondi", "NSW", "2026"), ("Surry Hills", "NSW", "2010"),
    ("Newcastle", "NSW", "2300"), ("Wollongong", "NSW", "2500"), ("Fitzroy", "VIC", "3065"),
    ("Brunswick", "VIC", "3056"), ("St Kilda", "VIC", "3182"), ("Geelong", "VIC", "3220"),
    ("Toowong", "QLD", "4066"), ("Fortitude Valley", "QLD", "4006"), ("Subiaco", "WA", "6008"),
    ("Fremantle", "WA", "6160"), ("Norwood", "SA", "5067"), ("Glenelg", "SA", "5045"),
    ("Sandy Bay", "TAS", "7005"), ("Braddon", "ACT", "2612"),
)  # fmt: skip
AU_CITIES = (
    ("Sydney", "NSW", "2000", ("Pitt", "Clarence", "Kent", "York")),
    ("Melbourne", "VIC", "3000", ("Collins", "Bourke", "Flinders", "Queen")),
    ("Brisbane", "QLD", "4000", ("Adelaide", "Edward", "Eagle", "Creek")),
    ("Perth", "WA", "6000", ("Hay", "Murray", "St Georges", "William")),
    ("Adelaide", "SA", "5000", ("Grenfell", "Pirie", "Flinders", "Currie")),
)
NZ_STREETS = (
    "Queen", "Ponsonby", "Karangahape", "Cuba", "Willis", "Colombo", "Riccarton", "Victoria",
    "Tainui", "Rata", "Kowhai", "Totara", "Marine", "Beach", "Hinemoa", "Tui",
)  # fmt: skip
NZ_SUBURBS = (
    ("Ponsonby", "Auckland", "1011"), ("Mount Eden", "Auckland", "1024"),
    ("Devonport", "Auckland", "0624"), ("Te Aro", "Wellington", "6011"),
    ("Kelburn", "Wellington", "6012"), ("Riccarton", "Christchurch", "8011"),
    ("Sumner", "Christchurch", "8081"), ("Frankton", "Hamilton", "3204"),
    ("Mount Maunganui", "Tauranga", "3116"), ("North Dunedin", "Dunedin", "9016"),
    ("Fernhill", "Queenstown", "9300"), ("The Wood", "Nelson", "7010"),
)  # fmt: skip
DE_STREETS = (
    "Kastanienallee", "Schönhauser Allee", "Bergmannstraße", "Oranienstraße", "Sonnenallee",
    "Karl-Marx-Allee", "Kantstraße", "Boxhagener Straße", "Torstraße", "Pappelallee",
    "Gneisenaustraße", "Wilmersdorfer Straße", "Brunnenstraße", "Müllerstraße",
)  # fmt: skip
DE_PLACES = (
    "10435 Berlin", "10437 Berlin", "10961 Berlin", "10999 Berlin", "12043 Berlin",
    "10243 Berlin", "10625 Berlin", "10245 Berlin", "10119 Berlin", "13353 Berlin",
    "14467 Potsdam", "14482 Potsdam",
)  # fmt: skip
DE_PEOPLE = (
    "Anna Schmidt", "Lukas Müller", "Sophie Weber", "Jonas Becker", "Mia Fischer",
    "Felix Wagner", "Lena Hoffmann", "Paul Schulz", "Emma Koch", "Leon Richter",
    "Hannah Klein", "Elias Wolf", "Marie Schröder", "Noah Neumann", "Lea Schwarz",
    "Ben Zimmermann", "Emilia Braun", "Finn Krüger", "Clara Hartmann", "Ayşe Yılmaz",
    "Mehmet Demir", "Katarzyna Nowak", "Luca Rossi", "Julia Lange",
)  # fmt: skip
DE_FIRMS = ("Bäckerei", "Architekturbüro", "Zahnarztpraxis", "Steuerkanzlei", "Tischlerei")

# Names in Greek and Cyrillic, each with the Latin spelling of its e-mail address and
# bank account, and home addresses abroad: (country, street, town line).
NON_LATIN = (
    ("GR", "Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos"),
    ("GR", "Ελένη Κωνσταντίνου", "Eleni Konstantinou"),
    ("GR", "Νίκος Αλεξίου", "Nikos Alexiou"),
    ("BG", "Иван Петров", "Ivan Petrov"),
    ("BG", "Мария Димитрова", "Maria Dimitrova"),
    ("UA", "Олена Шевченко", "Olena Shevchenko"),
    ("UA", "Андрій Коваленко", "Andrii Kovalenko"),
    ("RS", "Милица Јовановић", "Milica Jovanovic"),
)
ABROAD = {
    "GR": (("Ερμού", "105 63 Αθήνα"), ("Τσιμισκή", "546 24 Θεσσαλονίκη")),
    "BG": (("ул. Витоша", "1000 София"), ("ул. Княз Александър I", "4000 Пловдив")),
    "UA": (("вул. Хрещатик,", "01001 Київ"), ("вул. Дерибасівська,", "65026 Одеса")),
    "RS": (("Кнез Михаилова", "11000 Београд"), ("Змај Јовина", "21000 Нови Сад")),
}


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(0, len(options)))]


def _number(rng: np.random.Generator) -> int:
    return int(rng.integers(1, 240))


def australian_home(rng: np.random.Generator) -> str:
    suburb, state, postcode = _pick(rng, AU_SUBURBS)
    street = f"{_number(rng)} {_pick(rng, AU_STREETS)} {_pick(rng, STREET_TYPES)}"
    if rng.random() < 0.25:
        street = f"Unit {int(rng.integers(1, 30))}, {street}"
    return f"{street}\n{suburb} {state} {postcode}"


def australian_office(rng: np.random.Generator) -> str:
    city, state, postcode, streets = _pick(rng, AU_CITIES)
    level = int(rng.integers(1, 40))
    return f"Level {level}, {_number(rng)} {_pick(rng, streets)} Street\n{city} {state} {postcode}"


def new_zealand(rng: np.random.Generator, shop: bool = False) -> str:
    suburb, city, postcode = _pick(rng, NZ_SUBURBS)
    street = f"{_number(rng)} {_pick(rng, NZ_STREETS)} {_pick(rng, STREET_TYPES)}"
    if shop:
        street = f"Shop {int(rng.integers(1, 12))}, {street}"
    return f"{street}\n{suburb}\n{city} {postcode}"


def german(rng: np.random.Generator) -> str:
    return f"{_pick(rng, DE_STREETS)} {_number(rng)}\n{_pick(rng, DE_PLACES)}"


def abroad(rng: np.random.Generator, country: str) -> str:
    street, town = _pick(rng, ABROAD[country])
    return f"{street} {_number(rng)}\n{town}"


_PLAIN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ş": "s", "ı": "i", "é": "e"})


def handle(latin: str) -> str:
    """The local part of an e-mail address for a name in Latin letters."""
    plain = latin.lower().translate(_PLAIN)
    return ".".join(plain.split())


def _valid(rng: np.random.Generator, make, check) -> str:
    """Draw numbers from `make` until one passes `check` (a checksum rejects a few)."""
    while True:
        number = make(rng)
        if check(number):
            return number


def australian_business_number(rng: np.random.Generator) -> str:
    body = f"{int(rng.integers(10**8, 10**9))}"
    digits = abn.calc_check_digits(body) + body
    return abn.format(digits)


def nz_gst_number(rng: np.random.Generator) -> str:
    def make(rng):
        body = f"{int(rng.integers(10**7, 15 * 10**6))}"  # 100-000-000 to 149-999-999
        return body + ird.calc_check_digit(body)

    number = _valid(rng, make, ird.is_valid)
    return f"{number[:-6]}-{number[-6:-3]}-{number[-3:]}"


def german_vat_number(rng: np.random.Generator) -> str:
    def make(rng):
        body = f"{int(rng.integers(10**7, 10**8))}"
        return f"DE{body}{mod_11_10.calc_check_digit(body)}"

    return _valid(rng, make, eu_vat.is_valid)


def eurowave_customers(rng: np.random.Generator, count: int) -> list[dict]:
    """EuroWave's customers in Berlin and Potsdam: people (a few with Greek or Cyrillic
    names), every eighth a small firm with a VAT number; two take invoices on paper.
    Each carries `debtor`, the Latin name on its bank account, for its SEPA mandate."""
    far = {int(i) for i in rng.choice(count, min(4, count), replace=False)}
    paper = {int(i) for i in rng.choice(count, min(2, count), replace=False)}
    customers, names = [], iter(NON_LATIN * count)
    for i in range(count):
        n = i + 1
        details = {"id": f"euro-{n:03d}", "address": german(rng), "country": "DE"}
        if i in far:
            _, name, latin = next(names)
        elif n % 8 == 0:
            latin = name = f"{_pick(rng, DE_FIRMS)} {_pick(rng, DE_PEOPLE).split()[1]} GmbH"
            details.update(kind="company", tax_id=german_vat_number(rng))
        else:
            latin = name = _pick(rng, DE_PEOPLE)
        customers.append(
            {
                **details,
                "name": name,
                "debtor": latin,
                "email": f"{handle(latin)}{n}@eurowave.example",
                "delivery": "paper" if i in paper else "email",
            }
        )
    return customers
