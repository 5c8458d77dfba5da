#!/usr/bin/env python3
"""Generate a synthetic Catalogue of Life Data Package (ColDP) release of any size.

    python3 ops/bench/gen_coldp.py --usages 2000000 --out /tmp/coldp-2m [--zip] [--seed 42]

Writes metadata.yaml, NameUsage.tsv, VernacularName.tsv, Distribution.tsv and NameRelation.tsv
into --out. The files use the same `col:`-prefixed headers as shared/testdata/coldp-sample. With
--zip it also writes <out>.zip with the files at the archive root, as a ColDP export has them.

Shape of NameUsage.tsv (exactly --usages rows):
  1 kingdom (Animalia), about 30 phyla, 300 classes, 3k orders and 30k families per 2M usages;
  genera; species about 70 % of rows; synonyms about 10 %, each pointing at an accepted species;
  subspecies about 5 %. Rows are written top-down (depth first), so parents precede children.
Names are pronounceable Latin-like words, unique per rank. Accepted binomials are unique, and
synonym epithets never coincide with accepted ones. IDs are short base-36 strings.
VernacularName has about one row per 3 species, Distribution one per 5 species (with IUCN
categories), and NameRelation has a few basionym and spelling-correction rows.

Standard library only. Memory stays flat: rows are streamed to disk and nothing per row is kept.
The same --seed and --usages always give byte-identical output.
"""
import argparse
import math
import os
import random
import sys
import time
import zipfile

HEADERS = {
    "NameUsage.tsv": ["col:ID", "col:parentID", "col:status", "col:rank", "col:scientificName",
                      "col:authorship", "col:genericName", "col:specificEpithet",
                      "col:infraspecificEpithet", "col:code", "col:extinct", "col:environment",
                      "col:kingdom", "col:phylum", "col:class", "col:order", "col:family",
                      "col:genus", "col:uninomial", "col:remarks"],
    "VernacularName.tsv": ["col:taxonID", "col:name", "col:language", "col:country", "col:preferred"],
    "Distribution.tsv": ["col:taxonID", "col:area", "col:gazetteer", "col:status", "col:threatStatus"],
    "NameRelation.tsv": ["col:nameID", "col:relatedNameID", "col:type", "col:remarks"],
}

# Syllables are consonant + vowel, and every syllable starts with a consonant from CONS.
# Every ending starts with a character outside CONS (n, r, l, s, m, x). So a name reads back as
# exactly one sequence of syllables plus an ending, and distinct syllable strings give distinct names.
CONS = ["b", "c", "d", "f", "g", "k", "p", "t", "v", "z", "ch", "ph", "th", "qu"]
VOWELS = ["a", "e", "i", "o", "u", "y"]
SYLL = [c + v for c in CONS for v in VOWELS]  # 84 syllables
NS = len(SYLL)
END = {
    "phylum": ["nia", "ria", "rata", "lozoa", "nopoda", "mata"],
    "class": ["nea", "lia", "ria", "mida", "lopsida", "rostea"],
    "order": ["niformes", "riformes", "rida", "lida", "noptera", "roptera", "mata"],
    "family": ["nidae", "ridae", "lidae", "midae", "sidae"],
    "genus": ["nus", "rus", "lus", "s", "x", "ra", "na", "la", "mys", "nthus", "rum", "lia", "ps",
              "ria", "nia", "rax", "nix", "lops", "saurus", "ma"],
    "epithet": ["nus", "na", "num", "rus", "ra", "lis", "le", "nsis", "ri", "ni", "rum", "sus", "sa",
                "nensis", "lata", "ratus", "nica", "lensis", "sii", "rii", "nii", "llus", "lla"],
}
AUTHORS = ["Linnaeus", "Fabricius", "Latreille", "Say", "Walker", "Gray", "Cuvier", "Lamarck",
           "Müller", "Lacépède", "Temminck", "Schlegel", "Boulenger", "Günther", "Peters", "Smith",
           "Thomas", "Jordan", "Gilbert", "Meigen", "Fallén", "Simon", "Koch", "Pocock", "Dana",
           "Rafinesque", "Blainville", "Bonaparte", "Gould", "Vieillot", "Swainson", "Sharpe",
           "Cope", "Baird", "Girard", "Agassiz", "Valenciennes", "Bleeker", "Steindachner",
           "Hübner", "Stål", "Horn", "LeConte", "Casey", "Schaus", "Warren", "Moore", "Druce",
           "Motschulsky", "Reitter", "Boheman", "Thomson", "Mayr", "Forel", "Emery", "Wheeler",
           "Dalla Torre", "de Geer", "van der Hoeven", "O'Shaughnessy", "Milne-Edwards", "d'Orbigny"]
CLASS_ENV = [["terrestrial"], ["terrestrial"], ["terrestrial"], ["marine"], ["marine"],
             ["freshwater"], ["freshwater", "terrestrial"], ["marine", "brackish"],
             ["freshwater", "marine", "brackish"], ["terrestrial", "freshwater"]]
VERN = {
    "eng": (["spotted", "lesser", "greater", "giant", "pygmy", "red", "black", "golden", "striped",
             "common", "northern", "southern", "eastern", "western", "mountain", "desert", "forest",
             "river", "silver", "blue", "green", "banded", "long-tailed", "short-eared", "crested"],
            ["beetle", "moth", "fly", "wasp", "ant", "snail", "spider", "frog", "toad", "lizard",
             "snake", "finch", "warbler", "owl", "hawk", "mouse", "bat", "shrew", "fish", "eel",
             "crab", "shrimp", "weevil", "bee", "cricket", "slug", "worm", "gecko", "skink", "darter"]),
    "fra": (["grand", "petit", "commun", "rouge", "noir", "doré", "rayé", "des montagnes",
             "des forêts", "d'Europe", "à ventre blanc", "tacheté"],
            ["scarabée", "papillon de nuit", "mouche", "guêpe", "fourmi", "escargot", "araignée",
             "grenouille", "lézard", "serpent", "pinson", "chouette", "souris", "crabe", "poisson"]),
    "deu": (["Groß", "Klein", "Rot", "Schwarz", "Gold", "Streifen", "Berg", "Wald", "Fluss",
             "Wüsten", "Silber", "Blau", "Grün"],
            ["käfer", "falter", "fliege", "wespe", "ameise", "schnecke", "spinne", "frosch", "echse",
             "natter", "fink", "eule", "maus", "krabbe", "fisch", "grille"]),
    "spa": (["común", "gigante", "pequeño", "rojo", "negro", "dorado", "rayado", "de montaña",
             "del bosque", "del río", "plateado", "azul"],
            ["escarabajo", "polilla", "mosca", "avispa", "hormiga", "caracol", "araña", "rana",
             "lagartija", "serpiente", "pinzón", "búho", "ratón", "cangrejo", "pez"]),
    "por": (["comum", "gigante", "pequeno", "vermelho", "preto", "dourado", "listrado"],
            ["besouro", "mariposa", "mosca", "vespa", "formiga", "caracol", "aranha", "sapo", "peixe"]),
}
LANG_WEIGHTS = [("eng", 55), ("fra", 12), ("deu", 12), ("spa", 12), ("por", 9)]
AREAS_ISO = ["US", "CA", "MX", "BR", "AR", "PE", "CO", "GB", "FR", "DE", "ES", "IT", "PL", "SE",
             "RU", "CN", "JP", "IN", "ID", "MY", "PH", "AU", "NZ", "ZA", "KE", "TZ", "MG", "EG",
             "MA", "TR", "IR", "KZ", "MN", "TH", "VN", "NG", "CD", "CL", "EC", "CR"]
AREAS_TDWG = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
AREAS_TEXT = ["Oceans worldwide", "Tropical oceans", "Holarctic", "Neotropics", "Indo-Pacific",
              "Mediterranean Sea", "North Atlantic", "Amazon basin"]
IUCN = [("LC", 50), ("NT", 10), ("VU", 12), ("EN", 9), ("CR", 6), ("DD", 10), ("EX", 1), ("NE", 2)]


def weighted(rng, table):
    """Return a zero-argument sampler over (value, weight) pairs."""
    values = [v for v, _ in table]
    cum, t = [], 0
    for _, w in table:
        t += w
        cum.append(t)

    def pick():
        x = rng.random() * t
        for v, c in zip(values, cum):
            if x < c:
                return v
        return values[-1]
    return pick


def b36(n):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def syllables_needed(count):
    k = 1
    while NS ** k < count:
        k += 1
    return k


class Namer:
    """Injective, scrambled mapping from an index to a pronounceable word with a fixed syllable count."""

    def __init__(self, rng, count, min_syll=1, endings=None):
        self.k = max(min_syll, syllables_needed(max(count, 1)))
        self.mod = NS ** self.k
        a = rng.randrange(1, self.mod) | 1
        while math.gcd(a, self.mod) != 1:
            a += 2
        self.a, self.c = a, rng.randrange(self.mod)
        self.endings, self.rng = endings, rng

    def body(self, i):
        x = (i * self.a + self.c) % self.mod
        parts = []
        for _ in range(self.k):
            x, r = divmod(x, NS)
            parts.append(SYLL[r])
        return "".join(parts)

    def word(self, i):
        e = self.endings
        return self.body(i) + e[int(self.rng.random() * len(e))]


def allocate(rng, rem_children, rem_parents, spread=1.0, cap=None):
    """How many children the next parent gets; every remaining parent keeps at least one."""
    if rem_parents <= 1:
        return rem_children
    mean = rem_children / rem_parents
    if mean <= 1:
        return 1
    n = 1 + int(rng.expovariate(1.0 / ((mean - 1) * spread)) if spread else mean - 1)
    n = min(n, rem_children - (rem_parents - 1))
    if cap:
        n = min(n, cap)
    return max(1, n)


def burst(rng, rem_items, rem_slots, size_lo, size_hi):
    """How many optional items (synonyms, subspecies) the next slot gets, tracking the target total."""
    if rem_items <= 0:
        return 0
    if rem_slots <= 1:
        return rem_items
    mean = rem_items / rem_slots
    avg = (size_lo + size_hi) / 2.0
    if mean >= avg:
        return min(rem_items, int(mean) + (1 if rng.random() < mean - int(mean) else 0))
    if rng.random() < mean / avg:
        return min(rem_items, rng.randint(size_lo, size_hi))
    return 0


class Out:
    def __init__(self, path, header, flush_every=4096):
        self.fh = open(path, "w", encoding="utf-8", newline="")
        self.fh.write("\t".join(header) + "\n")
        self.buf, self.flush_every, self.rows = [], flush_every, 0

    def row(self, fields):
        self.buf.append("\t".join(fields))
        self.rows += 1
        if len(self.buf) >= self.flush_every:
            self.fh.write("\n".join(self.buf) + "\n")
            self.buf = []

    def close(self):
        if self.buf:
            self.fh.write("\n".join(self.buf) + "\n")
        self.fh.close()


def plan(n):
    """Row counts per kind for n usages (exact sum n)."""
    if n < 10:
        raise SystemExit("--usages must be at least 10")
    families = max(1, round(n * 0.015))
    orders = max(1, round(families / 10))
    classes = max(1, round(orders / 10))
    phyla = max(1, min(30, round(classes / 10)) if classes >= 10 else min(classes, 3))
    synonyms = int(n * 0.10)
    subspecies = int(n * 0.05)
    species = int(n * 0.70)
    genera = n - 1 - phyla - classes - orders - families - species - synonyms - subspecies
    # Keep the tree sane for small n: at least one genus per family, one species per genus.
    while genera < families and (subspecies + synonyms > 0 or species > genera + 1):
        if subspecies:
            subspecies -= 1
        elif synonyms:
            synonyms -= 1
        else:
            species -= 1
        genera += 1
    if genera < families or species < genera:
        raise SystemExit("--usages too small for a tree")
    return dict(phyla=phyla, classes=classes, orders=orders, families=families, genera=genera,
                species=species, synonyms=synonyms, subspecies=subspecies)


def generate(n, out, seed):
    rng = random.Random(seed)
    p = plan(n)
    os.makedirs(out, exist_ok=True)
    files = {name: Out(os.path.join(out, name), hdr) for name, hdr in HEADERS.items()}
    NU, VN, DI, NR = (files[k] for k in ("NameUsage.tsv", "VernacularName.tsv",
                                          "Distribution.tsv", "NameRelation.tsv"))
    max_per_genus = 400
    n_phy = Namer(rng, p["phyla"], 2, END["phylum"])
    n_cls = Namer(rng, p["classes"], 2, END["class"])
    n_ord = Namer(rng, p["orders"], 2, END["order"])
    n_fam = Namer(rng, p["families"], 2, END["family"])
    n_gen = Namer(rng, p["genera"], 3, END["genus"])
    n_sp = Namer(rng, max_per_genus, 2, END["epithet"])           # index within the genus
    n_ss = Namer(rng, 64, 1, END["epithet"])                      # index within the species
    n_syn_g = Namer(rng, p["synonyms"] + 1, n_gen.k + 1, END["genus"])  # never an accepted genus
    n_syn_e = Namer(rng, p["synonyms"] + 1, n_sp.k + 1, END["epithet"])  # never an accepted epithet

    rnd = rng.random
    year = lambda: str(rng.randint(1758, 2024))

    def author():
        a = AUTHORS[int(rnd() * len(AUTHORS))]
        x = rnd()
        if x < 0.15:
            a += " & " + AUTHORS[int(rnd() * len(AUTHORS))]
        elif x < 0.20:
            a += " et al."
        return a + ", " + year()

    threat = weighted(rng, IUCN)
    lang = weighted(rng, LANG_WEIGHTS)

    def vernacular(taxon_id, genus, epithet, preferred):
        lg = lang()
        adj, nouns = VERN[lg]
        a, nn = adj[int(rnd() * len(adj))], nouns[int(rnd() * len(nouns))]
        if lg == "eng":
            name = (genus + "'s " + nn) if rnd() < 0.25 else (a + " " + nn)
        elif lg == "deu":
            name = a + nn
        else:
            name = nn + " " + a
        VN.row([taxon_id, name, lg, "", "true" if preferred else ("false" if rnd() < 0.5 else "")])

    def distribution(taxon_id):
        x = rnd()
        if x < 0.8:
            area, gaz = AREAS_ISO[int(rnd() * len(AREAS_ISO))], "iso"
        elif x < 0.92:
            area, gaz = AREAS_TDWG[int(rnd() * len(AREAS_TDWG))], "tdwg"
        else:
            area, gaz = AREAS_TEXT[int(rnd() * len(AREAS_TEXT))], "text"
        status = "native" if rnd() < 0.9 else "alien"
        DI.row([taxon_id, area, gaz, status, threat() if status == "native" else ""])

    counter = [0]

    def new_id():
        counter[0] += 1
        return b36(counter[0])

    EMPTY = ""
    # Remaining counts drive allocation so the totals come out exact.
    rem = dict(p)
    syn_i = 0
    kid = new_id()
    NU.row([kid, EMPTY, "accepted", "kingdom", "Animalia", "Linnaeus, 1758", EMPTY, EMPTY, EMPTY,
            "zoological", EMPTY, EMPTY, "Animalia", EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, "Animalia", EMPTY])
    i_phy = i_cls = i_ord = i_fam = i_gen = 0
    for _ in range(p["phyla"]):
        phy = n_phy.word(i_phy).capitalize(); i_phy += 1
        pid = new_id()
        NU.row([pid, kid, "accepted", "phylum", phy, author(), EMPTY, EMPTY, EMPTY, "zoological",
                EMPTY, EMPTY, "Animalia", phy, EMPTY, EMPTY, EMPTY, EMPTY, phy, EMPTY])
        nc = allocate(rng, rem["classes"], rem["phyla"], 0.8); rem["phyla"] -= 1
        for _ in range(nc):
            cls = n_cls.word(i_cls).capitalize(); i_cls += 1
            cid = new_id()
            env = ",".join(CLASS_ENV[int(rnd() * len(CLASS_ENV))])
            vertebrate = rnd() < 0.3
            NU.row([cid, pid, "accepted", "class", cls, author(), EMPTY, EMPTY, EMPTY, "zoological",
                    EMPTY, EMPTY, "Animalia", phy, cls, EMPTY, EMPTY, EMPTY, cls, EMPTY])
            rem["classes"] -= 1
            no = allocate(rng, rem["orders"], rem["classes"] + 1, 0.8)
            for _ in range(no):
                ordn = n_ord.word(i_ord).capitalize(); i_ord += 1
                oid = new_id()
                NU.row([oid, cid, "accepted", "order", ordn, author() if rnd() < 0.7 else EMPTY,
                        EMPTY, EMPTY, EMPTY, "zoological", EMPTY, EMPTY, "Animalia", phy, cls, ordn,
                        EMPTY, EMPTY, ordn, EMPTY])
                rem["orders"] -= 1
                nf = allocate(rng, rem["families"], rem["orders"] + 1, 0.8)
                for _ in range(nf):
                    fam = n_fam.word(i_fam).capitalize(); i_fam += 1
                    fid = new_id()
                    NU.row([fid, oid, "accepted", "family", fam, author(), EMPTY, EMPTY, EMPTY,
                            "zoological", EMPTY, EMPTY, "Animalia", phy, cls, ordn, fam, EMPTY, fam,
                            EMPTY])
                    rem["families"] -= 1
                    ng = allocate(rng, rem["genera"], rem["families"] + 1, 1.0)
                    for _ in range(ng):
                        gen = n_gen.word(i_gen).capitalize(); i_gen += 1
                        gid = new_id()
                        NU.row([gid, fid, "accepted", "genus", gen, author(), EMPTY, EMPTY, EMPTY,
                                "zoological", EMPTY, EMPTY, "Animalia", phy, cls, ordn, fam, gen, gen,
                                EMPTY])
                        rem["genera"] -= 1
                        ns = allocate(rng, rem["species"], rem["genera"] + 1, 1.0, max_per_genus)
                        if rem["genera"] == 0:
                            ns = rem["species"]
                        for si in range(ns):
                            epi = n_sp.word(si) if si < n_sp.mod else n_sp.body(si % n_sp.mod) + "x" + b36(si).lower()
                            sid = new_id()
                            auth = author()
                            moved = rnd() < 0.4
                            acc_auth = "(" + auth + ")" if moved else auth
                            x = rnd()
                            if x < 0.01:
                                ext = "true"
                            elif vertebrate:
                                ext = "false"
                            else:
                                ext = EMPTY
                            status = "accepted" if rnd() > 0.01 else "provisionally accepted"
                            sci = gen + " " + epi
                            NU.row([sid, gid, status, "species", sci, acc_auth, gen, epi, EMPTY,
                                    "zoological", ext, env, "Animalia", phy, cls, ordn, fam, gen,
                                    EMPTY, EMPTY])
                            rem["species"] -= 1
                            if rnd() < 0.34:
                                vernacular(sid, gen, epi, True)
                            if rnd() < 0.2:
                                distribution(sid)
                            # synonyms of this species
                            k = burst(rng, rem["synonyms"], rem["species"] + 1, 1, 2)
                            for j in range(k):
                                syn_i += 1
                                kind = rnd()
                                if kind < 0.5:
                                    sg = n_syn_g.word(syn_i)
                                    sg = sg[0].upper() + sg[1:]
                                    se = epi if j == 0 else n_syn_e.word(syn_i)
                                else:
                                    sg, se = gen, n_syn_e.word(syn_i)
                                if sg == gen and se == epi:
                                    se = n_syn_e.word(syn_i)
                                yid = new_id()
                                NU.row([yid, sid, "synonym", "species", sg + " " + se,
                                        auth if kind < 0.5 and j == 0 else author(), sg, se, EMPTY,
                                        "zoological", EMPTY, EMPTY, "Animalia", phy, cls, ordn, fam,
                                        gen, EMPTY, EMPTY])
                                rem["synonyms"] -= 1
                                if kind < 0.5 and j == 0 and moved and rnd() < 0.1:
                                    NR.row([sid, yid, "basionym", EMPTY])
                                elif rnd() < 0.002:
                                    NR.row([yid, sid, "spelling correction", "unjustified emendation"])
                            # subspecies
                            k = burst(rng, rem["subspecies"], rem["species"] + 1, 2, 4)
                            for j in range(k):
                                infra = epi if j == 0 else n_ss.word(j) if j < n_ss.mod else "ssp" + b36(j).lower()
                                if j and infra == epi:
                                    infra = n_ss.body(j) + "x"
                                uid = new_id()
                                NU.row([uid, sid, "accepted", "subspecies", sci + " " + infra,
                                        acc_auth if j == 0 else author(), gen, epi, infra,
                                        "zoological", ext, env, "Animalia", phy, cls, ordn, fam, gen,
                                        EMPTY, EMPTY])
                                rem["subspecies"] -= 1
                                if rnd() < 0.1:
                                    vernacular(uid, gen, infra, True)
    for f in files.values():
        f.close()
    left = {k: v for k, v in rem.items() if v}
    if left or NU.rows != n:
        raise SystemExit("internal error: %d rows written, leftovers %r" % (NU.rows, left))
    with open(os.path.join(out, "metadata.yaml"), "w", encoding="utf-8") as fh:
        fh.write("# Synthetic ColDP release written by ops/bench/gen_coldp.py (not real data).\n"
                 "title: BiologiDex synthetic ColDP release\n"
                 "alias: BiologiDex-ColDP-synthetic\n"
                 "version: synthetic-%d-seed%d\n"
                 "issued: 2026-11-01\n"
                 "description: Randomly generated names and classification for benchmarks.\n"
                 "notes: All names, authorships and identifiers are synthetic.\n"
                 "license: CC BY 4.0\n" % (n, seed))
    return {name: f.rows for name, f in files.items()}, p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--usages", type=int, required=True, help="number of NameUsage rows")
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--zip", action="store_true", help="also write <out>.zip (files at the root)")
    ap.add_argument("--zip-level", type=int, default=6, help="deflate level for --zip (default 6)")
    a = ap.parse_args()
    t0 = time.time()
    rows, p = generate(a.usages, a.out, a.seed)
    t1 = time.time()
    size = sum(os.path.getsize(os.path.join(a.out, f)) for f in os.listdir(a.out))
    print("plan: %s" % ", ".join("%s=%d" % kv for kv in p.items()), file=sys.stderr)
    for name, n in rows.items():
        print("%-20s %10d rows" % (name, n), file=sys.stderr)
    print("generated %d usages in %.1fs (%.0f usages/s), %.1f MB in %s"
          % (a.usages, t1 - t0, a.usages / max(t1 - t0, 1e-9), size / 1e6, a.out), file=sys.stderr)
    if a.zip:
        zpath = a.out.rstrip("/") + ".zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=a.zip_level) as z:
            for name in ["metadata.yaml"] + list(HEADERS):
                z.write(os.path.join(a.out, name), arcname=name)
        print("zipped to %s (%.1f MB) in %.1fs" % (zpath, os.path.getsize(zpath) / 1e6, time.time() - t1),
              file=sys.stderr)


if __name__ == "__main__":
    main()
