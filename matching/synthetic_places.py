"""Places for the synthetic generator: the towns of each postcode area, and street and locality pools.

Each area lists a few real post towns; a postcode's town is fixed by its district (synthetic.py), so
everyone in one district lives in the same town and a move to another district usually changes it.
London's areas all have the post town London, as MIS records write it.
"""

from __future__ import annotations

_TOWN_TEXT = """
B: Birmingham, Sutton Coldfield, Solihull
M: Manchester, Salford, Stretford
LS: Leeds, Otley, Wetherby
S: Sheffield, Rotherham, Barnsley
L: Liverpool, Bootle, Prescot
E: London
N: London
W: London
SE: London
SW: London
NW: London
EC: London
WC: London
G: Glasgow, Clydebank, Paisley
EH: Edinburgh, Livingston, Musselburgh
CF: Cardiff, Barry, Caerphilly
BT: Belfast, Lisburn, Newry
BS: Bristol, Weston-super-Mare, Clevedon
NE: Newcastle upon Tyne, Gateshead, North Shields
NG: Nottingham, Mansfield, Newark
LE: Leicester, Loughborough, Hinckley
CV: Coventry, Nuneaton, Warwick
DE: Derby, Burton-on-Trent, Matlock
ST: Stoke-on-Trent, Stafford, Newcastle-under-Lyme
WV: Wolverhampton, Bridgnorth
WS: Walsall, Cannock, Lichfield
DY: Dudley, Stourbridge, Kidderminster
OL: Oldham, Rochdale, Ashton-under-Lyne
BL: Bolton, Bury
BB: Blackburn, Burnley, Accrington
PR: Preston, Chorley, Leyland
WN: Wigan, Skelmersdale
WA: Warrington, Widnes, St Helens
CH: Chester, Birkenhead, Ellesmere Port
SK: Stockport, Macclesfield, Hyde
HD: Huddersfield, Holmfirth
HX: Halifax, Brighouse
BD: Bradford, Keighley, Shipley
HG: Harrogate, Ripon
YO: York, Scarborough, Selby
HU: Hull, Beverley
DN: Doncaster, Scunthorpe, Grimsby
LN: Lincoln, Gainsborough
PE: Peterborough, Boston, Spalding
CB: Cambridge, Ely
IP: Ipswich, Bury St Edmunds
NR: Norwich, Great Yarmouth
CO: Colchester, Clacton-on-Sea
CM: Chelmsford, Harlow, Braintree
SS: Southend-on-Sea, Basildon
RM: Romford, Dagenham
IG: Ilford, Barking
EN: Enfield, Barnet
AL: St Albans, Harpenden
SG: Stevenage, Hitchin
LU: Luton, Dunstable
MK: Milton Keynes, Bedford
NN: Northampton, Kettering, Corby
OX: Oxford, Banbury, Bicester
RG: Reading, Basingstoke, Newbury
SL: Slough, Maidenhead
HP: High Wycombe, Aylesbury, Hemel Hempstead
GU: Guildford, Woking, Aldershot
KT: Kingston upon Thames, Epsom
SM: Sutton, Morden
CR: Croydon, Purley
BR: Bromley, Orpington
DA: Dartford, Bexleyheath, Gravesend
ME: Maidstone, Chatham, Gillingham
TN: Tunbridge Wells, Ashford, Hastings
CT: Canterbury, Margate, Dover
BN: Brighton, Worthing, Eastbourne
RH: Crawley, Redhill, Horsham
PO: Portsmouth, Chichester, Havant
SO: Southampton, Winchester, Eastleigh
BH: Bournemouth, Poole
SP: Salisbury, Andover
BA: Bath, Yeovil, Frome
TA: Taunton, Bridgwater
EX: Exeter, Barnstaple, Exmouth
PL: Plymouth, Saltash
TR: Truro, Penzance, Falmouth
TQ: Torquay, Paignton, Newton Abbot
DT: Dorchester, Weymouth
GL: Gloucester, Cheltenham, Stroud
HR: Hereford, Leominster
WR: Worcester, Malvern, Evesham
SY: Shrewsbury, Oswestry, Aberystwyth
LL: Wrexham, Bangor, Rhyl
SA: Swansea, Llanelli, Carmarthen
NP: Newport, Cwmbran, Abergavenny
LD: Llandrindod Wells, Builth Wells
AB: Aberdeen, Peterhead
DD: Dundee, Arbroath
PH: Perth, Pitlochry
KY: Kirkcaldy, Dunfermline, St Andrews
FK: Falkirk, Stirling
ML: Motherwell, Hamilton, Wishaw
KA: Kilmarnock, Ayr, Irvine
DG: Dumfries, Stranraer
TD: Galashiels, Hawick
IV: Inverness, Nairn
"""

TOWNS: dict[str, tuple[str, ...]] = {
    area.strip(): tuple(town.strip() for town in towns.split(","))
    for area, towns in (line.split(":") for line in _TOWN_TEXT.strip().splitlines())
}

# The first words of a street name, commonest first (drawn Zipf-like).
STREET_NAMES = (
    *[
        "Church",
        "Station",
        "High",
        "Park",
        "Victoria",
        "Mill",
        "School",
        "Green",
        "Manor",
        "Queens",
        "Kings",
        "New",
        "Albert",
        "Chapel",
        "Grange",
        "York",
        "Highfield",
        "Springfield",
        "Windsor",
        "Oak",
        "Elm",
        "Beech",
        "Ash",
        "Willow",
        "Cedar",
        "Birch",
        "Maple",
        "Hawthorn",
        "Meadow",
        "Orchard",
        "Brook",
        "River",
        "Hill",
        "Forest",
        "George",
        "Alexandra",
        "Stanley",
        "Cromwell",
        "Nelson",
        "Wellington",
        "Marlborough",
        "Clarence",
        "Derby",
        "Lancaster",
        "Richmond",
        "Cambridge",
        "Oxford",
        "Sandringham",
        "Balmoral",
        "Gladstone",
        "Salisbury",
        "Blenheim",
        "Coronation",
        "Jubilee",
        "Castle",
        "Bridge",
        "Market",
        "Water",
        "Well",
        "Lime",
        "Holly",
        "Rose",
        "Primrose",
        "Bluebell",
        "Heather",
        "Fern",
        "Lavender",
        "Sycamore",
        "Poplar",
        "Chestnut",
        "Laburnum",
        "Rowan",
        "Larch",
        "Pine",
        "Hazel",
        "Ivy",
        "Cherry",
        "Juniper",
        "Moss",
        "Pennine",
        "Wharf",
        "Canal",
        "Lake",
        "Valley",
        "Fairfield",
        "Broad",
        "Long",
        "Back",
        "Cross",
        "Bank",
        "Clifton",
        "Belmont",
        "Thornton",
        "Ashworth",
        "Fieldhouse",
        "Moorland",
        "Westfield",
        "Eastfield",
        "Northfield",
        "Southfield",
        "Brookside",
        "Riverside",
        "Parkside",
        "Woodside",
        "Hillside",
        "Lakeside",
        "Kingsley",
        "Beaumont",
        "Bradshaw",
        "Crompton",
        "Fletcher",
        "Grosvenor",
        "Hamilton",
        "Kensington",
        "Mayfield",
        "Newlands",
        "Oakwood",
        "Pembroke",
        "Ravenscroft",
        "Stamford",
        "Tennyson",
        "Wordsworth",
        "Shakespeare",
        "Milton",
        "Chaucer",
        "Byron",
        "Keats",
        "Dickens",
        "Brunel",
        "Telford",
        "Darwin",
        "Nightingale",
        "Churchill",
        "Attlee",
        "Bevan",
        "Pankhurst",
        "Seacole",
    ],
    "St John's",
    "St Mary's",
    "St Andrew's",
    "St Peter's",
    "St George's",
    "St Michael's",
)
# Written in full, with the abbreviation a MIS or a parent may use instead (None: never shortened).
STREET_TYPES: dict[str, str | None] = {
    "Road": "Rd",
    "Street": "St",
    "Lane": "Ln",
    "Avenue": "Ave",
    "Close": "Cl",
    "Drive": "Dr",
    "Way": None,
    "Crescent": "Cres",
    "Grove": "Gr",
    "Court": "Ct",
    "Gardens": "Gdns",
    "Terrace": "Terr",
    "Place": "Pl",
    "Square": "Sq",
    "Walk": None,
    "Mews": None,
    "Row": None,
    "Rise": None,
    "View": None,
}
# How often each street type occurs, roughly as in English street gazetteers.
STREET_TYPE_WEIGHTS = (30, 22, 10, 8, 8, 6, 4, 3, 3, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1)

# A line 2 that is not a flat: a district of the town or a named estate.
LOCALITIES = tuple(
    [
        "Moss Side",
        "Harehills",
        "Hulme",
        "Headingley",
        "Kirkstall",
        "Sparkbrook",
        "Handsworth",
        "Small Heath",
        "Aston",
        "Erdington",
        "Everton",
        "Toxteth",
        "Walton",
        "Anfield",
        "Byker",
        "Heaton",
        "Jesmond",
        "Sneinton",
        "Radford",
        "Bulwell",
        "Beeston",
        "Hyson Green",
        "Meadows Estate",
        "Park Estate",
        "Castle Vale Estate",
        "Broadwater Farm",
        "Lakeside Estate",
        "Kingsmead Estate",
        "Orchard Park",
        "Manor Park",
        "Brookfield",
        "Woodlands",
        "Highfields",
        "Millbrook",
        "Westbury",
        "Ashfield",
        "Northwood",
        "Southgate",
        "Eastville",
        "Hillcrest",
        "Riverside Estate",
        "Greenacres",
        "Oakfield",
        "Thornhill",
        "Fairview",
        "Newtown",
    ]
)
