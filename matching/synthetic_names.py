# ruff: noqa: E501
"""Name pools for the synthetic generator: British names of many origins, most common first.

Frequencies within a pool follow a Zipf-like law (see synthetic.py), so common names collide the
way "Oliver Smith" does in real data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from matching.synthetic_names_tail import TAILS


@dataclass(frozen=True, slots=True)
class Origin:
    name: str
    share: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# English toponymic surnames (Ashworth, Thornton, Whitfield...): the long tail that real surnames have.
_PREFIXES = (
    "Ash Black Brad Brook Chad Crom Hart Holl Kings Lang Mar North Pem Red Ship Stan Thorn Wat Whit Wool"
)
_SUFFIXES = "ley ton worth field ford by ham well wood combe shaw stead bury ridge dale"
ENGLISH_TAIL = tuple(prefix + suffix for suffix in _SUFFIXES.split() for prefix in _PREFIXES.split())

_HEADS: tuple[Origin, ...] = (
    Origin(
        "english",
        0.44,
        _split(
            "Oliver George Harry Jack Noah Charlie Jacob Alfie Freddie Oscar Leo Thomas William James Henry "
            "Archie Joshua Max Isaac Lucas Ethan Samuel Joseph Daniel Benjamin Edward Alexander Arthur Theo "
            "Logan Harrison Toby Dylan Riley Finley Sebastian Mason Reuben Jenson Louie Frankie Elliot Stanley "
            "Albert Rory Tommy Hugo Ronnie Teddy Jude Ellis Kai Ryan Jasper Felix Luca Zachary Nathan Callum "
            "Matthew Christopher Andrew Richard Jonathan Peter Michael Robert Luke Adam Bradley Connor Kieran"
        ),
        _split(
            "Olivia Amelia Isla Ava Emily Isabella Mia Poppy Ella Lily Sophie Grace Evie Jessica Charlotte "
            "Sophia Freya Scarlett Chloe Daisy Alice Phoebe Florence Matilda Ruby Evelyn Millie Rosie Harper "
            "Sienna Lucy Holly Eleanor Elsie Ivy Imogen Erin Willow Esme Maisie Hannah Megan Katie Lauren "
            "Georgia Abigail Bethany Rebecca Victoria Elizabeth Katherine Eliza Harriet Beatrice Penelope "
            "Jasmine Amber Leah Paige Summer Molly Lola Zara Layla Annabelle Madison Rose Darcy"
        ),
        _split(
            "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker "
            "White Roberts Green Hall Wood Jackson Clarke Clark Turner Hill Harris Cooper Ward Martin Baker "
            "King Lee Allen Edwards Harrison Moore Young Lewis Hughes Parker Morris Bennett Cook Shaw Price "
            "Bailey Richardson Phillips Ellis Mason Marshall Chapman Webb Rogers Gray Holmes Palmer Fisher "
            "Knight Butler Barker Fletcher Hunt Lloyd Mills Dixon Atkinson Pearson Hudson Barnes Hayward "
            "Sutcliffe Pickering Ashworth Greenwood Hargreaves Whitworth Fairbairn Postlethwaite Braithwaite "
            "Illingworth Ramsbottom Entwistle Woolley Cartwright Blackburn Winterbottom Oddie Thwaites"
        )
        + ENGLISH_TAIL,
    ),
    Origin(
        "scottish",
        0.07,
        _split(
            "Callum Lewis Finlay Fraser Hamish Angus Euan Ruaridh Lachlan Alasdair Struan Calum Craig Gregor Ewan"
        ),
        _split(
            "Eilidh Isla Kirsty Morag Catriona Ailsa Iona Skye Fiona Mhairi Rhona Shona Kenna Islay Ishbel"
        ),
        _split(
            "Campbell Stewart MacDonald Robertson Murray MacLeod Fraser Paterson Henderson Ross Mackenzie "
            "Reid Cameron Graham Kerr Grant Ferguson Sinclair Drummond Buchanan Urquhart Menzies Farquharson"
        ),
    ),
    Origin(
        "irish",
        0.07,
        _split(
            "Cian Oisin Conor Sean Padraig Ciaran Eoin Darragh Tadhg Cillian Fionn Ronan Declan Niall Colm"
        ),
        _split(
            "Aoife Niamh Siobhan Saoirse Caoimhe Roisin Grainne Orla Sinead Clodagh Ciara Aisling Maeve Nuala"
        ),
        _split(
            "Murphy Kelly O'Sullivan Walsh O'Brien Byrne Ryan O'Connor O'Neill O'Reilly Doyle McCarthy "
            "Gallagher Doherty Kennedy Lynch Quinn Brennan McLaughlin Ni-Bhriain Mac-Giolla Fitzgerald"
        ),
    ),
    Origin(
        "welsh",
        0.05,
        _split(
            "Rhys Dylan Gethin Iwan Osian Dafydd Emyr Rhodri Aled Cai Gruffydd Tomos Steffan Ioan Llewellyn"
        ),
        _split("Ffion Carys Seren Cerys Angharad Bethan Lowri Nia Megan Elin Catrin Gwen Sian Mali Eleri"),
        _split(
            "Jones Williams Davies Evans Thomas Roberts Hughes Lewis Morgan Griffiths Owen Price Pritchard ap-Rhys"
        ),
    ),
    Origin(
        "south_asian",
        0.12,
        _split(
            "Mohammed Muhammad Ali Ibrahim Yusuf Hamza Ayaan Arjun Aarav Rohan Krishna Harjeet Gurpreet Sanjay "
            "Rajesh Imran Bilal Zain Zayn Ayaan Rayyan Ismail Abdullah Omar Hassan Aditya Vihaan Dev Kabir"
        ),
        _split(
            "Aisha Fatima Maryam Zainab Amira Inaya Anaya Priya Simran Harpreet Manpreet Zara Safa Hafsa Ayesha "
            "Khadija Noor Aleena Eshal Anika Divya Lakshmi Sana Yasmin Parveen Shabana Nadia Alisha Riya"
        ),
        _split(
            "Khan Ahmed Hussain Ali Patel Begum Rahman Islam Akhtar Iqbal Shah Mahmood Singh Kaur Sharma "
            "Chowdhury Uddin Miah Qureshi Siddiqui Malik Butt Bibi Nawaz Sandhu Gill Dhillon Bains Chaudhry"
        ),
    ),
    Origin(
        "african",
        0.06,
        _split(
            "Oluwaseun Chinedu Adebayo Oluwatobi Emeka Kwame Kofi Tunde Femi Olamide Chukwuemeka Tobi Ayodele "
            "Segun Kelechi Nnamdi Obinna Yaw Kwabena Abdi Mohamed Tariq Idris Daniel David"
        ),
        _split(
            "Ngozi Abena Ama Temitope Folasade Chioma Amara Adaeze Blessing Precious Favour Nkechi Adwoa Yetunde "
            "Funmilayo Ifeoma Esther Ruth Hodan Fadumo Asha Nana Zainab Mercy"
        ),
        _split(
            "Okafor Adeyemi Mensah Asante Boateng Okonkwo Adebayo Oyelaran Owusu Osei Nwosu Eze Obi Ibrahim "
            "Abdullahi Mohamud Hassan Ogunleye Afolabi Balogun Oduya Appiah Ansah"
        ),
    ),
    Origin(
        "caribbean",
        0.04,
        _split(
            "Tyrone Jermaine Marcus Delroy Winston Leon Devon Kemar Andre Jayden Shane Romario Kyle Jerome"
        ),
        _split(
            "Shanice Aaliyah Tia Keisha Jade Chantelle Kayla Marcia Simone Tanisha Latoya Monique Jada Nia"
        ),
        _split(
            "Campbell Brown Williams Thomas Francis Morgan Grant Clarke Bailey Henry Samuels Gordon Richards Lewis"
        ),
    ),
    Origin(
        "polish",
        0.05,
        _split(
            "Jakub Kacper Szymon Filip Jan Mateusz Bartosz Wojciech Michał Łukasz Paweł Krzysztof Zbigniew Piotr"
        ),
        _split(
            "Zuzanna Julia Maja Zofia Hanna Lena Alicja Małgorzata Katarzyna Agnieszka Wiktoria Natalia Oliwia"
        ),
        _split(
            "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak "
            "Dąbrowski Kozłowski Jankowski Mazur Krawczyk Piotrowski Grabowski Pawłowski Michalski Król"
        ),
    ),
    Origin(
        "romanian",
        0.03,
        _split("Andrei Alexandru Ionuț Mihai Ștefan Gheorghe Florin Cristian Darius Luca Vlad Sorin Bogdan"),
        _split("Ioana Andreea Maria Elena Mihaela Cristina Bianca Alexandra Raluca Denisa Ana Larisa Roxana"),
        _split(
            "Popescu Ionescu Popa Dumitru Stan Stoica Gheorghe Rusu Munteanu Matei Constantin Șerban Lungu"
        ),
    ),
    Origin(
        "chinese",
        0.03,
        _split("Wei Jun Hao Ming Jie Lei Yang Chen Kai Zihan Yuxuan Haoran Tian Bo"),
        _split("Mei Xin Yan Ying Li Hui Jing Xiaoling Yuxi Ruoxi Zhiruo Lan Qing Na"),
        _split("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Lin Guo Ho Cheung Wong"),
    ),
    Origin(
        "arabic",
        0.04,
        _split("Ahmad Omar Khalid Youssef Karim Tariq Samir Rami Jamal Faisal Nabil Hamid Ziad Amir"),
        _split("Layla Nour Rania Salma Hala Dina Lina Reem Yara Mariam Huda Leila Farah Jana"),
        _split(
            "Al-Sayed Haddad Khalil Nasser Hamdan Saleh Abbas Mansour Darwish Aziz Al-Masri Saad Yousef Karam"
        ),
    ),
)


def _with_tail(head: tuple[str, ...], tail: str, seed: str) -> tuple[str, ...]:
    """The curated names (most common first), then the long tail in a fixed shuffled order.

    The tails are alphabetical at source; shuffling keeps rank (hence frequency) unrelated to spelling.
    """
    extra = [name for name in dict.fromkeys(tail.split()) if name not in head]
    random.Random(seed).shuffle(extra)
    return (*head, *extra)


def _extend(origin: Origin) -> Origin:
    male, female, family = TAILS.get(origin.name, ("", "", ""))
    return replace(
        origin,
        male=_with_tail(origin.male, male, f"{origin.name}/male"),
        female=_with_tail(origin.female, female, f"{origin.name}/female"),
        family=_with_tail(origin.family, family, f"{origin.name}/family"),
    )


# Pools of a few hundred to a few thousand names per origin, drawn Zipf-like (synthetic.py): the
# commonest names recur as in real data, while a full name + birth date shared by strangers stays rare.
ORIGINS: tuple[Origin, ...] = tuple(_extend(origin) for origin in _HEADS)


# Diminutives and everyday forms common in English schools that the nicknames package lacks, kept here
# (not in the matcher's lists) so the evaluation does not test the matcher against its own answers.
# "Full: short short ...", one given name a line.
_PROJECT_DIMINUTIVES = """
Abigail: Abi
Sebastian: Seb
Anthony: Ant
Olivia: Liv Livvy
Amelia: Millie Mimi
Gabriel: Gabe
Nathaniel: Nate
Harrison: Harry Haz
Archibald: Archie
Benjamin: Benji
Charlotte: Charlie
Isabella: Izzy Issy
Mackenzie: Kenzie
Freddie: Fred
Alfie: Alf
Jakub: Kuba Kubuś
Aleksander: Olek
Aleksandra: Ola
Małgorzata: Gosia Małgosia
Katarzyna: Kasia
Wojciech: Wojtek
Zuzanna: Zuzia
Zofia: Zosia
Agnieszka: Aga
Bartosz: Bartek
Maciej: Maciek
Piotr: Piotrek
Tomasz: Tomek
Szymon: Szymek
Jan: Janek
Franciszek: Franek
Stanisław: Staś
Antoni: Antek
Wiktoria: Wika
Dafydd: Dai Dewi
Llewellyn: Llew
Gruffydd: Gruff
Rhodri: Rhod
Gethin: Geth
Steffan: Steff
Tomos: Twm Tom
Bethan: Beth
Catrin: Cat
Rhiannon: Rhi
Mohammed: Mo Mohd
Muhammad: Mo
Mohamed: Mo
Rajesh: Raj
Aditya: Adi
Krishna: Krish
Harjeet: Harj
Harpreet: Harps
Simran: Simi
Manpreet: Mani
Abdullah: Abdul
Imran: Immy
Khadija: Dija
Yasmin: Yaz
Devansh: Dev
Oluwaseun: Seun
Oluwatobi: Tobi
Oluwafemi: Femi
Adebayo: Bayo
Babatunde: Tunde
Temitope: Tope Temi
Folasade: Sade Fola
Funmilayo: Funmi
Chukwuemeka: Emeka
Oluwasegun: Segun
Ayodele: Ayo
Ayodeji: Ayo Deji
Olufunke: Funke
Oluwakemi: Kemi
Temidayo: Dayo
Modupe: Dupe
Chinedu: Nedu
Ifeoma: Ife
Adaeze: Ada
Padraig: Paddy
Sean: Seanie
Siobhan: Shiv
Darragh: Dara
Roisin: Rosie
Declan: Dec
Clodagh: Clo
Aisling: Ash
Cillian: Killian
Ciaran: Kieran
Tadhg: Teague
"""

PROJECT_DIMINUTIVES: dict[str, tuple[str, ...]] = {
    full.strip(): tuple(short.split())
    for full, short in (line.split(":") for line in _PROJECT_DIMINUTIVES.strip().splitlines())
}

# Real given names one or two letters apart that parents give to twins: "name gender name gender".
# Mostly the same sex (Ella/Ellie); some not (Louis/Louise), as twins are.
_SIMILAR_NAMES = """
Ella f Ellie f
Mia f Maya f
Freya f Frida f
Isla f Isha f
Lily f Lila f
Daisy f Maisy f
Millie f Mollie f
Molly f Polly f
Holly f Polly f
Zara f Sara f
Zara f Tara f
Yara f Zara f
Ava f Eva f
Ava f Ada f
Nia f Mia f
Tia f Mia f
Kayla f Layla f
Lola f Lila f
Jada f Jade f
Ciara f Clara f
Lina f Lana f
Dina f Nina f
Amina f Amira f
Amira f Samira f
Amara f Samara f
Aisha f Alisha f
Riya f Siya f
Isha f Asha f
Hana f Hala f
Cerys f Carys f
Amelia f Amalia f
Sophie f Sophia f
Grace f Gracie f
Evie f Elsie f
Anna f Hanna f
Leah f Lena f
Lottie f Lettie f
Leo m Leon m
Jayden m Jaden m
Mason m Jason m
Ethan m Nathan m
Harry m Harvey m
Jack m Jake m
Louie m Louis m
Lucas m Luca m
Theo m Leo m
Ryan m Rayan m
Ali m Eli m
Omar m Amar m
Amir m Samir m
Rohan m Rowan m
Rohan m Roshan m
Arjun m Arun m
Femi m Remi m
Noah m Noel m
Louis m Louise f
Daniel m Danielle f
Oliver m Olivia f
Eric m Erica f
Paul m Paula f
Francis m Frances f
Jesse m Jessie f
Leon m Leona f
Leo m Lea f
Milo m Mila f
Luca m Lucy f
Luca m Lucia f
Ali m Alia f
Kai m Kaia f
Joel m Joelle f
"""


@dataclass(frozen=True, slots=True)
class SimilarName:
    """A twin's name one or two letters from a sibling's, and whether the twin is a girl."""

    name: str
    female: bool


def _similar_names() -> dict[str, tuple[SimilarName, ...]]:
    """Each name (with its gender, "Leo/m") -> the names its twin may have."""
    found: dict[str, list[SimilarName]] = {}
    for line in _SIMILAR_NAMES.strip().splitlines():
        a, a_sex, b, b_sex = line.split()
        found.setdefault(f"{a}/{a_sex}", []).append(SimilarName(b, b_sex == "f"))
        found.setdefault(f"{b}/{b_sex}", []).append(SimilarName(a, a_sex == "f"))
    return {key: tuple(names) for key, names in found.items()}


SIMILAR_NAMES = _similar_names()
