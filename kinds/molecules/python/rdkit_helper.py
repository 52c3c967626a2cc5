"""RDKit helper of the ansatz-molecules crate: one JSON request on stdin, one JSON reply on stdout.

Bundled into the Rust crate with include_str! and run as `python -c <this file>`.
Commands (field "cmd"):
  inspect  {"smiles": [..]}                       -> {"results": [record | failure, ...]}
  embed    {"smiles", "count", "seed", "coords"}  -> {"ok", "symbols", "bonds", "conformers"}
  mutate   {"population": [[smiles, loss]], "count", "seed", "elements", "min_heavy",
            "max_heavy", "exclude": [canonical]}   -> {"children": [{"smiles", "op", "parents"}]}
  svg      {"smiles": [..], "legends": [..], "columns"} -> {"svg"}
Everything is deterministic for a given seed.
"""
import contextlib
import io
import json
import random
import sys

from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem import AllChem, rdMolDescriptors

rdBase.LogToPythonStderr()


def quiet(fn, *args, **kwargs):
    """Run fn with RDKit's log captured; return (value, log text)."""
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        value = fn(*args, **kwargs)
    return value, buf.getvalue()


def clean_log(text):
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and "]" in line:
            line = line[line.index("]") + 1:].strip()
        if line:
            lines.append(line)
    return "; ".join(lines)


def parse(smiles):
    """Parse and sanitise; return (mol, None) or (None, (stage, message))."""
    mol, log = quiet(Chem.MolFromSmiles, smiles, sanitize=False)
    if mol is None:
        return None, ("parse", clean_log(log) or "RDKit could not parse the SMILES")
    buf = io.StringIO()
    try:
        with contextlib.redirect_stderr(buf):
            Chem.SanitizeMol(mol)
    except Chem.AtomValenceException as e:
        return None, ("valence", str(e).strip())
    except Chem.KekulizeException as e:
        return None, ("kekulize", str(e).strip())
    except Exception as e:  # noqa: BLE001 - any other sanitisation failure
        return None, ("sanitize", (type(e).__name__ + ": " + str(e)).strip())
    return mol, None


def describe(mol):
    heavy = [a.GetSymbol() for a in mol.GetAtoms()]
    electrons = sum(a.GetAtomicNum() + a.GetTotalNumHs() for a in mol.GetAtoms())
    charge = Chem.GetFormalCharge(mol)
    return {
        "ok": True,
        "canonical": Chem.MolToSmiles(mol),
        "formula": rdMolDescriptors.CalcMolFormula(mol),
        "heavy_symbols": heavy,
        "charge": charge,
        "charged_atoms": sum(1 for a in mol.GetAtoms() if a.GetFormalCharge() != 0),
        "radical_electrons": sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms()),
        "electrons": electrons - charge,
        "fragments": len(Chem.GetMolFrags(mol)),
        "hydrogens": sum(a.GetTotalNumHs() for a in mol.GetAtoms()),
    }


def cmd_inspect(req):
    out = []
    for smiles in req["smiles"]:
        mol, err = parse(smiles)
        if err:
            out.append({"ok": False, "stage": err[0], "message": err[1]})
        else:
            out.append(describe(mol))
    return {"results": out}


def kekule_bonds(mol):
    m = Chem.Mol(mol)
    Chem.Kekulize(m, clearAromaticFlags=True)
    bonds = []
    for b in m.GetBonds():
        order = {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3}
        bonds.append([b.GetBeginAtomIdx(), b.GetEndAtomIdx(), order.get(b.GetBondType(), 1)])
    return bonds


def cmd_embed(req):
    mol, err = parse(req["smiles"])
    if err:
        return {"ok": False, "message": err[1]}
    conformers = []
    coords = req.get("coords")
    if coords:
        if len(coords) != mol.GetNumAtoms():
            return {"ok": False, "message": "coordinates do not match the heavy atoms"}
        conf = Chem.Conformer(mol.GetNumAtoms())
        for i, (x, y, z) in enumerate(coords):
            conf.SetAtomPosition(i, (float(x), float(y), float(z)))
        given = Chem.Mol(mol)
        given.AddConformer(conf, assignId=True)
        given_h, _ = quiet(Chem.AddHs, given, addCoords=True)
        conformers.append(
            [list(given_h.GetConformer().GetAtomPosition(i)) for i in range(given_h.GetNumAtoms())]
        )
    molh = Chem.AddHs(mol)
    count = int(req.get("count", 0))
    if count > 0:
        params = AllChem.ETKDGv3()
        # RDKit 2022.09 gives identical conformers for randomSeed = 0: offset the seed.
        params.randomSeed = int(req.get("seed", 0)) + 61453
        params.pruneRmsThresh = 0.3
        params.numThreads = 1
        ids, _ = quiet(AllChem.EmbedMultipleConfs, molh, count, params)
        ids = list(ids)
        if ids:
            quiet(AllChem.MMFFOptimizeMoleculeConfs, molh, numThreads=1, maxIters=1000)
            for cid in ids:
                pos = molh.GetConformer(cid).GetPositions()
                conformers.append([list(map(float, p)) for p in pos])
    if not conformers:
        return {"ok": False, "message": "RDKit ETKDG embedding failed"}
    return {
        "ok": True,
        "symbols": [a.GetSymbol() for a in molh.GetAtoms()],
        "bonds": kekule_bonds(molh),
        "conformers": conformers,
    }


# ---------------------------------------------------------------- graph-based GA (Jensen 2019 style)

def valence_left(atom):
    return atom.GetTotalNumHs()


def finish(rw, rules):
    """Sanitise an edited molecule and check the task's rules; return canonical SMILES or None."""
    try:
        m = rw.GetMol()
        for a in m.GetAtoms():
            a.SetNoImplicit(False)
            a.SetNumExplicitHs(0)
        _, log = quiet(Chem.SanitizeMol, m)
        smi = Chem.MolToSmiles(m)
        m2, err = parse(smi)
        if err:
            return None
    except Exception:  # noqa: BLE001 - an edit that RDKit refuses is simply discarded
        return None
    d = describe(m2)
    heavy = len(d["heavy_symbols"])
    if heavy < rules["min_heavy"] or heavy > rules["max_heavy"]:
        return None
    if any(s not in rules["elements"] for s in d["heavy_symbols"]):
        return None
    if d["charge"] != 0 or d["charged_atoms"] or d["radical_electrons"] or d["fragments"] != 1:
        return None
    if d["electrons"] % 2:
        return None
    ring_info = m2.GetRingInfo()
    if any(len(r) < 3 or len(r) > 8 for r in ring_info.AtomRings()):
        return None
    return d["canonical"]


def kekulized(smiles):
    mol, err = parse(smiles)
    if err:
        return None
    Chem.Kekulize(mol, clearAromaticFlags=True)
    return mol


def mut_change_atom(rng, mol, rules):
    rw = Chem.RWMol(mol)
    atom = rw.GetAtomWithIdx(rng.randrange(rw.GetNumAtoms()))
    new = rng.choice(rules["elements"])
    atom.SetAtomicNum(Chem.GetPeriodicTable().GetAtomicNumber(new))
    return rw


def mut_append(rng, mol, rules):
    rw = Chem.RWMol(mol)
    cands = [a.GetIdx() for a in rw.GetAtoms() if valence_left(a) > 0]
    if not cands:
        return None
    i = rng.choice(cands)
    new = rng.choice(rules["elements"])
    j = rw.AddAtom(Chem.Atom(Chem.GetPeriodicTable().GetAtomicNumber(new)))
    order = Chem.BondType.SINGLE
    if new in ("C", "N", "O") and valence_left(rw.GetAtomWithIdx(i)) >= 2 and rng.random() < 0.3:
        order = Chem.BondType.DOUBLE
    rw.AddBond(i, j, order)
    return rw


def mut_insert(rng, mol, rules):
    rw = Chem.RWMol(mol)
    if rw.GetNumBonds() == 0:
        return None
    b = rw.GetBondWithIdx(rng.randrange(rw.GetNumBonds()))
    i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
    rw.RemoveBond(i, j)
    new = rng.choice([e for e in rules["elements"] if e != "F"] or ["C"])
    k = rw.AddAtom(Chem.Atom(Chem.GetPeriodicTable().GetAtomicNumber(new)))
    rw.AddBond(i, k, Chem.BondType.SINGLE)
    rw.AddBond(k, j, Chem.BondType.SINGLE)
    return rw


def mut_delete(rng, mol, rules):
    rw = Chem.RWMol(mol)
    terminal = [a.GetIdx() for a in rw.GetAtoms() if a.GetDegree() == 1]
    if not terminal:
        return None
    rw.RemoveAtom(rng.choice(terminal))
    return rw


def mut_bond_order(rng, mol, rules):
    rw = Chem.RWMol(mol)
    if rw.GetNumBonds() == 0:
        return None
    b = rw.GetBondWithIdx(rng.randrange(rw.GetNumBonds()))
    orders = [Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE]
    current = orders.index(b.GetBondType()) if b.GetBondType() in orders else 0
    step = rng.choice([-1, 1])
    target = min(max(current + step, 0), 2)
    if target == current:
        return None
    b.SetBondType(orders[target])
    return rw


def mut_ring(rng, mol, rules):
    rw = Chem.RWMol(mol)
    ring_bonds = [b for b in rw.GetBonds() if b.IsInRing()]
    if ring_bonds and rng.random() < 0.4:
        b = rng.choice(ring_bonds)
        rw.RemoveBond(b.GetBeginAtomIdx(), b.GetEndAtomIdx())
        return rw
    dm = Chem.GetDistanceMatrix(rw)
    pairs = [
        (a.GetIdx(), c.GetIdx())
        for a in rw.GetAtoms()
        for c in rw.GetAtoms()
        if a.GetIdx() < c.GetIdx() and 2 <= dm[a.GetIdx()][c.GetIdx()] <= 5
        and valence_left(a) > 0 and valence_left(c) > 0
    ]
    if not pairs:
        return None
    i, j = rng.choice(pairs)
    rw.AddBond(i, j, Chem.BondType.SINGLE)
    return rw


MUTATIONS = [
    ("change_atom", mut_change_atom),
    ("append_atom", mut_append),
    ("insert_atom", mut_insert),
    ("delete_atom", mut_delete),
    ("bond_order", mut_bond_order),
    ("ring", mut_ring),
]


def crossover(rng, a, b):
    """Cut one acyclic single bond in each parent and join a piece of each."""
    pieces = []
    for mol in (a, b):
        cuts = [x.GetIdx() for x in mol.GetBonds()
                if not x.IsInRing() and x.GetBondType() == Chem.BondType.SINGLE]
        if not cuts:
            return None
        frag = Chem.FragmentOnBonds(mol, [rng.choice(cuts)], addDummies=True)
        parts = Chem.GetMolFrags(frag, asMols=True, sanitizeFrags=False)
        piece = Chem.RWMol(rng.choice(parts))
        for atom in piece.GetAtoms():
            if atom.GetAtomicNum() == 0:
                atom.SetIsotope(0)
                atom.SetAtomMapNum(1)
        pieces.append(piece)
    joined = Chem.CombineMols(pieces[0], pieces[1])
    try:
        zipped, _ = quiet(Chem.molzip, joined)
    except Exception:  # noqa: BLE001
        return None
    return Chem.RWMol(zipped)


def tournament(rng, population, size=3):
    picks = [rng.randrange(len(population)) for _ in range(size)]
    return population[min(picks, key=lambda i: population[i][1])][0]


def cmd_mutate(req):
    rng = random.Random(int(req.get("seed", 0)))
    rules = {
        "elements": req.get("elements", ["C", "N", "O", "F"]),
        "min_heavy": int(req.get("min_heavy", 8)),
        "max_heavy": int(req.get("max_heavy", 20)),
    }
    population = [p for p in req["population"] if p[0]]
    if not population:
        return {"children": []}
    exclude = set(req.get("exclude", []))
    crossover_rate = float(req.get("crossover_rate", 0.5))
    count = int(req["count"])
    children = []
    attempts = 0
    while len(children) < count and attempts < 50 * count:
        attempts += 1
        first = tournament(rng, population)
        pa = kekulized(first)
        if pa is None:
            continue
        parents = [first]
        if rng.random() < crossover_rate and len(population) > 1:
            second = tournament(rng, population)
            pb = kekulized(second)
            if pb is None or second == first:
                continue
            rw, op = crossover(rng, pa, pb), "crossover"
            parents.append(second)
        else:
            op, fn = MUTATIONS[rng.randrange(len(MUTATIONS))]
            try:
                rw = fn(rng, pa, rules)
            except Exception:  # noqa: BLE001 - an edit RDKit refuses is discarded
                rw = None
        if rw is None:
            continue
        smi = finish(rw, rules)
        if smi is None or smi in exclude:
            continue
        exclude.add(smi)
        children.append({"smiles": smi, "op": op, "parents": parents})
    return {"children": children}


def cmd_svg(req):
    from rdkit.Chem import Draw

    mols = []
    for smi in req["smiles"]:
        mol, err = parse(smi)
        mols.append(mol if mol is not None else Chem.Mol())
    legends = req.get("legends") or [""] * len(mols)
    svg = Draw.MolsToGridImage(
        mols, molsPerRow=int(req.get("columns", 4)), subImgSize=(250, 200),
        legends=legends, useSVG=True,
    )
    return {"svg": svg if isinstance(svg, str) else svg.data}


COMMANDS = {"inspect": cmd_inspect, "embed": cmd_embed, "mutate": cmd_mutate, "svg": cmd_svg}


def main():
    RDLogger.DisableLog("rdApp.info")
    try:
        req = json.loads(sys.stdin.read())
        reply = COMMANDS[req["cmd"]](req)
    except Exception as e:  # noqa: BLE001 - reported to Rust as a typed helper error
        reply = {"error": type(e).__name__ + ": " + str(e)}
    sys.stdout.write(json.dumps(reply))
    sys.stdout.flush()


main()
