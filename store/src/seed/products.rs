//! The generated master catalog: brand × product type × variant, from the brand and product-type
//! tables below. Mostly a data table (`TYPES`).

use super::demo_id;

const BRANDS: &[(&str, &str)] = &[
    ("Acme", "ACM"),
    ("Ironclad", "IRC"),
    ("Voltline", "VLT"),
    ("Stanhope", "STH"),
    ("Kraftwerk", "KRW"),
    ("Granite", "GRN"),
    ("Norsk Verktøy", "NRV"),
    ("Hartwell", "HRT"),
    ("Titanis", "TTN"),
    ("Baywood", "BYW"),
];

/// (category path, product type, SKU code, variants as (label, SKU suffix, base price in cents)).
type ProductType = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, i64)],
);

const TYPES: &[ProductType] = &[
    (
        "Power Tools/Drills",
        "Cordless Drill",
        "DRL",
        &[
            ("18V", "18", 12900),
            ("12V", "12", 8900),
            ("24V Brushless", "24", 18900),
        ],
    ),
    (
        "Power Tools/Drills",
        "Hammer Drill",
        "HDR",
        &[("850W", "850", 11900), ("1100W", "1100", 15900)],
    ),
    (
        "Power Tools/Drivers",
        "Impact Driver",
        "IMP",
        &[("18V", "18", 13900), ("12V Compact", "12", 9900)],
    ),
    (
        "Power Tools/Saws",
        "Circular Saw",
        "CSW",
        &[("165mm", "165", 14900), ("190mm", "190", 17900)],
    ),
    (
        "Power Tools/Saws",
        "Jigsaw",
        "JIG",
        &[
            ("Pendulum 650W", "650", 8900),
            ("Cordless 18V", "18", 12900),
        ],
    ),
    (
        "Power Tools/Saws",
        "Reciprocating Saw",
        "RSW",
        &[("1200W", "1200", 13900), ("Cordless 18V", "18", 15900)],
    ),
    (
        "Power Tools/Grinders",
        "Angle Grinder",
        "AGR",
        &[
            ("115mm", "115", 6900),
            ("125mm", "125", 7900),
            ("230mm", "230", 12900),
        ],
    ),
    (
        "Power Tools/Sanders",
        "Random Orbit Sander",
        "ROS",
        &[("125mm", "125", 9900), ("150mm", "150", 12900)],
    ),
    (
        "Power Tools/Routers",
        "Plunge Router",
        "RTR",
        &[("1400W", "1400", 19900)],
    ),
    (
        "Hand Tools/Wrenches",
        "Torque Wrench",
        "TQW",
        &[
            ("1/2in 40-200Nm", "200", 8900),
            ("3/8in 20-100Nm", "100", 6900),
        ],
    ),
    (
        "Hand Tools/Wrenches",
        "Combination Wrench Set",
        "CWS",
        &[("12 Piece", "12", 4900), ("22 Piece", "22", 8900)],
    ),
    (
        "Hand Tools/Screwdrivers",
        "Screwdriver Set",
        "SDS",
        &[
            ("Insulated 7 Piece", "7", 3900),
            ("Precision 24 Piece", "24", 2900),
        ],
    ),
    (
        "Hand Tools/Pliers",
        "Pliers Set",
        "PLR",
        &[("3 Piece", "3", 3400), ("5 Piece", "5", 4900)],
    ),
    (
        "Hand Tools/Hammers",
        "Claw Hammer",
        "HAM",
        &[("16oz Fiberglass", "16", 2400), ("20oz Steel", "20", 2900)],
    ),
    (
        "Hand Tools/Measuring",
        "Laser Distance Meter",
        "LDM",
        &[("50m", "50", 7900), ("100m", "100", 12900)],
    ),
    (
        "Hand Tools/Measuring",
        "Spirit Level",
        "LVL",
        &[("600mm", "600", 2900), ("1200mm", "1200", 4400)],
    ),
    (
        "Workshop/Compressors",
        "Air Compressor",
        "CMP",
        &[
            ("24L", "24", 18900),
            ("50L", "50", 29900),
            ("100L", "100", 54900),
        ],
    ),
    (
        "Workshop/Welding",
        "MIG Welder",
        "MIG",
        &[("160A", "160", 39900), ("200A", "200", 54900)],
    ),
    (
        "Workshop/Storage",
        "Tool Chest",
        "TCH",
        &[("7 Drawer", "7", 34900), ("12 Drawer", "12", 59900)],
    ),
    (
        "Workshop/Benches",
        "Workbench",
        "WBN",
        &[
            ("1500mm Steel", "1500", 44900),
            ("2000mm Beech", "2000", 69900),
        ],
    ),
    (
        "Workshop/Vises",
        "Bench Vise",
        "VSE",
        &[("100mm", "100", 7900), ("150mm", "150", 11900)],
    ),
    (
        "Outdoor/Generators",
        "Inverter Generator",
        "GEN",
        &[("2kW", "2", 79900), ("3.5kW", "35", 119900)],
    ),
    (
        "Outdoor/Pressure Washers",
        "Pressure Washer",
        "PWS",
        &[("130 bar", "130", 19900), ("160 bar", "160", 29900)],
    ),
    (
        "Outdoor/Chainsaws",
        "Chainsaw",
        "CHS",
        &[("35cm Cordless", "35", 24900), ("45cm Petrol", "45", 34900)],
    ),
    (
        "Safety/Eye Protection",
        "Safety Glasses",
        "SGL",
        &[
            ("Clear 12 Pack", "12", 3900),
            ("Tinted 12 Pack", "12T", 4400),
        ],
    ),
    (
        "Safety/Hearing Protection",
        "Ear Defenders",
        "EAR",
        &[("SNR 30", "30", 1900), ("Electronic SNR 28", "28E", 6900)],
    ),
    (
        "Safety/Gloves",
        "Work Gloves",
        "GLV",
        &[
            ("Cut Resistant 10 Pairs", "10C", 5900),
            ("Nitrile 100", "100N", 1400),
        ],
    ),
    (
        "Lighting/Work Lights",
        "LED Work Light",
        "LWL",
        &[("20W", "20", 3900), ("50W Tripod", "50", 8900)],
    ),
    (
        "Fasteners/Anchors",
        "Anchor Assortment",
        "ANC",
        &[("400 Piece", "400", 2900)],
    ),
    (
        "Fasteners/Screws",
        "Wood Screw Assortment",
        "WSA",
        &[
            ("1000 Piece", "1000", 3400),
            ("Stainless 500 Piece", "500S", 4900),
        ],
    ),
    (
        "Electrical/Testers",
        "Multimeter",
        "MMT",
        &[("True RMS", "RMS", 8900), ("Clamp 600A", "600", 11900)],
    ),
    (
        "Electrical/Cable",
        "Extension Reel",
        "EXT",
        &[("25m", "25", 5900), ("50m", "50", 8900)],
    ),
];

/// How many master products the demo has (DESIGN: at least 500).
pub const MASTER_PRODUCTS: usize = 520;

/// A generated master product.
pub struct MasterProduct {
    pub index: usize,
    pub id: String,
    pub sku: String,
    pub name: String,
    pub brand: &'static str,
    pub category: &'static str,
    /// List price in cents before any reseller markup.
    pub base_price: i64,
}

/// The generated master catalog: brand × product type × variant, the first `MASTER_PRODUCTS`
/// combinations in a fixed order that starts with the Acme Cordless Drill 18V (`ACM-DRL-18`).
pub fn master_products() -> Vec<MasterProduct> {
    let variants: Vec<(&ProductType, &(&str, &str, i64))> = TYPES
        .iter()
        .flat_map(|t| t.3.iter().map(move |v| (t, v)))
        .collect();
    let mut out = Vec::with_capacity(MASTER_PRODUCTS);
    let mut round = 0;
    'outer: loop {
        for (k, (ty, variant)) in variants.iter().enumerate() {
            if out.len() == MASTER_PRODUCTS {
                break 'outer;
            }
            // Each round pairs every variant with the next brand, so pairs never repeat.
            let (brand, code) = BRANDS[(k + round) % BRANDS.len()];
            let index = out.len();
            let sku = format!("{code}-{}-{}", ty.2, variant.1);
            // Brands differ in price level by up to ±20%, deterministically.
            let level = 80 + ((k * 7 + round * 13) % 41) as i64;
            out.push(MasterProduct {
                index,
                id: demo_id("master", &sku),
                name: format!("{brand} {} {}", ty.1, variant.0),
                sku,
                brand,
                category: ty.0,
                base_price: variant.2 * level / 100,
            });
        }
        round += 1;
        assert!(
            round < BRANDS.len(),
            "not enough brand × variant pairs for the demo catalog"
        );
    }
    out
}
