//! Molecule design problems: SMILES proposals, conformers by RDKit, properties by GFN2-xTB (being written).
