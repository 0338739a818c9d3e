"""A blind test set for the identity matcher: two schools' LRB files of invented UK pupils, scored.

    .venv/bin/python -m bench.blind_set run [--people 3000] [--seed 7] [--examples 10] [--json] [--out DIR]

Written as an outside evaluator would write it, WITHOUT reading the matcher (``matching/``), its own
synthetic generator, docs/MATCHING.md or bench/compare_splink.py: the people, the changes and the rules
for what counts as right are this file's own, so it measures the matcher on data it was not tuned on.
What it does use from the project: ``school_client``'s ``LearnerRow``/``write_lrb`` to write the LRB 2A
files, and the same pieces ``bench.febrl.run_batch`` is built from (``add_school``, ``serving`` and
``_register`` of ``bench.batch_throughput``, ``read_results`` of ``bench.febrl``) to run them through a
fresh ``lrs-server serve`` on a temporary SQLite file with the real ``lrs-school register`` CLI.
(``run_batch`` starts one server per file; here the two files must go to the same server, as two schools.)

1. A seeded population of households in UK towns, with hand-made name lists (English, Welsh, Irish,
   Scottish, Polish, Romanian, Lithuanian, Pakistani, Bangladeshi, Indian, Nigerian, Ghanaian, Somali,
   Chinese, Portuguese), streets and postcodes whose outward codes belong to their town. Pupils are born
   2008-2012 and at least 14 on 2026-12-03 (``SET_DAY``; the server refuses younger learners). Households
   hold siblings (same family name and address, different given names and dates), twins (same date,
   different given names, some of them similar-looking: Ella/Ellie, Leo/Leon, Mia/Maya, Isla/Isaac,
   Taiwo/Kehinde, Hassan/Hussain...; Aiden/Aidan and Jayden/Jaden are judged spellings of one name, so
   never twins here) and clusters of unrelated namesakes (Mohammed Ali, Olivia Smith, Jack Jones...: same
   town, same year, often the same month).
2. File A (school A) registers every pupil once. File B (school B, other MISIdentifiers) re-registers
   about 40% of them with one labelled change each (or a labelled pair of changes), and adds people who
   never held a ULN but look like someone who did: the other twin, a sibling, a parent with the pupil's
   exact name at the same address, unrelated namesakes, and plain new pupils. A truth file labels every
   row: file, MISIdentifier, person, category, kind, and the registered person a new row resembles.
3. Score. Rows whose person already held a ULN (issued NEW to their file-A row): matched to it, sent to
   review with it among the candidates, sent to review without it, given a new ULN (missed), MATCHED to
   someone else's ULN (a false merge), refused. Rows of people who never held a ULN (all of file A, and
   file B's new people): NEW, reviewed, FALSE MERGE (every one is listed), refused.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.batch_throughput import _register, add_school, serving
from bench.febrl import RowResult, read_results
from school_client.files import LearnerRow, write_lrb

NOT_KNOWN_POSTCODE = "ZZ99 3CZ"
MINIMUM_AGE = 14  # the server refuses younger learners (UNDER_MINIMUM_AGE)
EARLIEST_BIRTH = date(1900, 1, 1)  # the server refuses earlier dates
PUPIL_FIRST_BIRTH = date(2008, 1, 1)
PUPIL_LAST_BIRTH = date(2012, 12, 31)
SCHOOL_A, SCHOOL_B = "BLIND-SCHOOL-A", "BLIND-SCHOOL-B"
SET_DAY = date(2026, 12, 3)  # the day the pupils' ages are worked out from (see main)
TRUTH_COLUMNS = ("File", "MISIdentifier", "Person", "Category", "Kind", "Related")

# ============================================================================================ name lists


@dataclass(frozen=True, slots=True)
class Group:
    """One naming tradition: given names by gender, family names, how often a middle name is written,
    and the towns its families mostly live in."""

    key: str
    weight: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]
    towns: tuple[str, ...]
    middle_share: float


def _t(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


GROUPS: tuple[Group, ...] = (
    Group(
        "english",
        40,
        _t(
            "Oliver, Jack, Harry, George, Noah, Charlie, Jacob, Alfie, Freddie, Oscar, Leo, Leon, Thomas,"
            " William, James, Joshua, Samuel, Daniel, Benjamin, Alexander, Matthew, Joseph, Edward, Henry,"
            " Archie, Ethan, Lucas, Mason, Logan, Dylan, Tyler, Callum, Connor, Jayden, Aiden, Kai, Louis,"
            " Reuben, Isaac, Theo, Toby, Max, Nathan, Ryan, Liam, Christopher, Nicholas, Jonathan, Robert,"
            " Frederick, Harvey, Jake, Luke, Adam, Zachary, Tommy-Lee, Alfie-Jay, Billy-Joe, Stephen"
        ),
        _t(
            "Olivia, Amelia, Isla, Ava, Emily, Sophie, Sophia, Grace, Lily, Ella, Ellie, Mia, Maya, Evie,"
            " Eva, Poppy, Ruby, Charlotte, Jessica, Chloe, Chloë, Zoe, Zoë, Katherine, Catherine, Elizabeth,"
            " Margaret, Victoria, Rebecca, Abigail, Isabella, Eleanor, Hannah, Megan, Holly, Lucy, Daisy,"
            " Freya, Phoebe, Scarlett, Millie, Lola, Rosie, Imogen, Amber, Leah, Courtney, Paige, Danielle,"
            " Louise, Alexandra, Georgia, Lily-Mae, Ellie-Mae, Anne-Marie, Mary-Jane, Renée, Kathryn"
        ),
        _t(
            "Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Johnson, Roberts,"
            " Robinson, Thompson, Wright, Walker, White, Edwards, Hughes, Green, Hall, Lewis, Harris, Clarke,"
            " Jackson,"
            " Wood, Turner, Martin, Cooper, Hill, Ward, Morris, Moore, Clark, Lee, King, Baker, Harrison,"
            " Morgan, Allen, James, Scott, Phillips, Watson, Davis, Parker, Price, Bennett, Young, Griffiths,"
            " Mitchell, Kelly, Cook, Carter, Richardson, Bailey, Collins, Bell, Shaw, Murphy, Miller, Cox,"
            " Richards, Marshall, Anderson, Simpson, Ellis, Adams, Wilkinson, Foster, Chapman, Powell, Webb,"
            " Rogers, Gray, Mason, Hunt, Matthews, Owen, Palmer, Holmes, Mills, Barnes, Knight, Lloyd,"
            " Butler, Russell, Barker, Fisher, Stevens, Jenkins, Murray, Dixon, Harvey, Ashworth, Fairclough,"
            " Hargreaves, Whitehead, Sutcliffe, Ackroyd, Butterworth, Greenwood, Smyth, Atkinson, Pickering"
        ),
        (),
        0.6,
    ),
    Group(
        "welsh",
        6,
        _t(
            "Dafydd, Rhys, Gethin, Osian, Iwan, Emyr, Gareth, Owain, Aled, Cai, Tomos, Ioan, Llŷr, Siôn, Huw,"
            " Morgan, Elis, Gruffydd, Steffan, Dylan, Evan, Ieuan"
        ),
        _t(
            "Cerys, Ffion, Seren, Carys, Rhiannon, Gwenllian, Nia, Sioned, Mali, Elin, Lowri, Catrin, Megan,"
            " Bethan, Gwen, Alys, Eleri, Angharad, Mared, Manon, Efa, Tegan"
        ),
        _t(
            "Jones, Williams, Davies, Evans, Thomas, Roberts, Lewis, Hughes, Morgan, Griffiths, Edwards,"
            " Rees, Jenkins, Owen, Price, Pritchard, Powell, Llewellyn, Bowen, Pugh, Vaughan, Parry, Prosser,"
            " Howells, Lloyd, Watkins, Meredith, Gwilym, Tudor, ap Rhys"
        ),
        ("Cardiff", "Swansea", "Wrexham"),
        0.5,
    ),
    Group(
        "irish",
        5,
        _t(
            "Seán, Sean, Ciarán, Cian, Oisín, Eoin, Conor, Darragh, Patrick, Niall, Declan, Ronan, Rory,"
            " Fionn, Tadhg, Cillian, Pádraig, Liam, Diarmuid, Cathal"
        ),
        _t(
            "Siobhán, Siobhan, Aoife, Niamh, Saoirse, Caoimhe, Róisín, Orla, Clodagh, Aisling, Ciara,"
            " Sinéad, Méabh, Gráinne, Aoibhinn, Éabha, Bríd, Nuala, Erin, Shauna"
        ),
        _t(
            "Murphy, Kelly, O'Brien, O'Connor, O'Neill, O'Sullivan, Byrne, Ryan, Walsh, McCarthy, Doyle,"
            " Gallagher, Kennedy, Lynch, Quinn, Fitzgerald, Brennan, McLaughlin, O'Reilly, D'Arcy,"
            " Ó Súilleabháin, Mac Giolla Phádraig, Ní Bhriain, McGuinness, O'Donnell"
        ),
        ("London", "Liverpool", "Manchester", "Birmingham", "Coventry", "Glasgow"),
        0.5,
    ),
    Group(
        "scottish",
        5,
        _t(
            "Callum, Hamish, Alasdair, Alistair, Euan, Ewan, Fraser, Angus, Ruaridh, Lachlan, Finlay, Kyle,"
            " Ross, Murray, Craig, Calum, Struan, Innes, Gregor, Duncan"
        ),
        _t(
            "Eilidh, Isla, Catriona, Mhairi, Kirsty, Morag, Ailsa, Iona, Skye, Fiona, Shona, Kirsten, Rhona,"
            " Islay, Freya, Orla"
        ),
        _t(
            "MacDonald, McDonald, MacLeod, McLeod, Campbell, Stewart, Robertson, Thomson, Anderson,"
            " MacKenzie, McKenzie, Fraser, Reid, Ross, Paterson, Murray, Grant, Ferguson, Sinclair, Buchanan,"
            " MacKay,"
            " McIntyre, Cameron, Drummond, Munro, Gillies, McGregor"
        ),
        ("Glasgow", "Edinburgh", "Newcastle upon Tyne"),
        0.5,
    ),
    Group(
        "polish",
        6,
        _t(
            "Jakub, Kacper, Szymon, Filip, Mateusz, Bartosz, Michał, Wojciech, Krzysztof, Łukasz, Lukasz,"
            " Aleksander, Piotr, Paweł, Tomasz, Dawid, Kamil, Oliwer, Antoni, Igor, Maciej, Dominik,"
            " Stanisław, Jan"
        ),
        _t(
            "Zuzanna, Julia, Maja, Zofia, Hanna, Lena, Alicja, Natalia, Wiktoria, Oliwia, Katarzyna,"
            " Małgorzata, Agnieszka, Aleksandra, Magdalena, Joanna, Gabriela, Amelia, Karolina, Weronika,"
            " Martyna, Paulina"
        ),
        _t(
            "Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, Szymański,"
            " Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Krawczyk, Piotrowski, Grabowski, Nowakowski,"
            " Pawłowski, Michalski, Zając, Król, Wieczorek, Jabłoński, Wróbel, Nowicki"
        ),
        ("Peterborough", "Boston", "Southampton", "Slough", "Leeds", "London", "Northampton"),
        0.2,
    ),
    Group(
        "romanian",
        4,
        _t(
            "Andrei, Alexandru, Ștefan, Stefan, Mihai, Ionuț, Gabriel, Darius, Rareș, David, Luca, Matei,"
            " Cristian, Vlad, Bogdan, Florin, Sebastian, Denis, Marius"
        ),
        _t(
            "Maria, Ioana, Andreea, Elena, Alexandra, Bianca, Ana, Daria, Sofia, Gabriela, Alesia, Ilinca,"
            " Irina, Larisa, Denisa, Roxana, Mădălina, Cătălina"
        ),
        _t(
            "Popescu, Ionescu, Popa, Pop, Radu, Dumitru, Stan, Stoica, Gheorghe, Matei, Ciobanu, Rusu,"
            " Munteanu, Constantin, Mocanu, Moldovan, Lungu, Marin, Toma, Florea, Dinu, Bălan, Șerban,"
            " Răducanu"
        ),
        ("London", "Leicester", "Luton", "Peterborough", "Birmingham"),
        0.3,
    ),
    Group(
        "lithuanian",
        3,
        _t(
            "Jonas, Lukas, Matas, Nojus, Dominykas, Mantas, Tomas, Žygimantas, Kajus, Benas, Rokas,"
            " Gabrielius, Arnas, Ignas, Domantas, Karolis, Paulius"
        ),
        _t(
            "Emilija, Gabija, Austėja, Ugnė, Kamilė, Goda, Urtė, Milda, Rugilė, Viltė, Liepa, Augustė,"
            " Gintarė, Ieva, Eglė"
        ),
        _t(
            "Kazlauskas, Jankauskas, Petrauskas, Stankevičius, Vasiliauskas, Žukauskas, Butkus, Paulauskas,"
            " Urbonas, Kavaliauskas, Navickas, Balčiūnas, Šimkus, Baranauskas, Adomaitis, Vaitkus"
        ),
        ("Boston", "Peterborough", "Thetford", "London", "Leeds"),
        0.2,
    ),
    Group(
        "pakistani",
        8,
        _t(
            "Mohammed, Muhammad, Ali, Hamza, Ibrahim, Yusuf, Zain, Ayaan, Rayyan, Bilal, Usman, Hassan,"
            " Hussain, Abdullah, Imran, Adil, Faisal, Haris, Arham, Zayan, Umar, Omar, Saad, Talha, Amir"
        ),
        _t(
            "Aisha, Ayesha, Fatima, Maryam, Zainab, Khadija, Hafsa, Amina, Hira, Iqra, Sana, Mahnoor, Zara,"
            " Aleena, Eman, Anaya, Inaaya, Noor, Alisha, Laiba, Areeba, Mehak, Amira"
        ),
        _t(
            "Khan, Hussain, Ahmed, Ali, Akhtar, Iqbal, Mahmood, Shah, Malik, Butt, Raja, Chaudhry, Rashid,"
            " Javed, Aslam, Rehman, Anwar, Saleem, Bashir, Mirza, Qureshi, Sheikh, Abbasi, Kayani"
        ),
        (
            "Bradford",
            "Birmingham",
            "Luton",
            "Manchester",
            "Oldham",
            "Slough",
            "Leeds",
            "Sheffield",
            "Glasgow",
        ),
        0.4,
    ),
    Group(
        "bangladeshi",
        5,
        _t(
            "Mohammed, Muhammad, Abdul, Rahim, Ariyan, Rayhan, Sami, Tanvir, Shahid, Rafi, Imran, Nabil,"
            " Adnan, Abu, Tahmid, Mahir, Arif, Rubel"
        ),
        _t(
            "Fatema, Tasnim, Nusrat, Sumaiya, Jannat, Ruqayyah, Tahmina, Anika, Nafisa, Lamia, Sadia,"
            " Farhana, Mariam, Tasnia, Raisa, Fatima"
        ),
        _t(
            "Begum, Miah, Uddin, Rahman, Ahmed, Islam, Hussain, Ali, Khatun, Hoque, Chowdhury, Choudhury,"
            " Hossain, Akter, Sarkar, Alam, Karim, Haque, Mia"
        ),
        ("London", "Oldham", "Birmingham", "Luton", "Bradford", "Sheffield", "Newcastle upon Tyne"),
        0.4,
    ),
    Group(
        "indian",
        5,
        _t(
            "Arjun, Rohan, Aarav, Vihaan, Krish, Aryan, Dev, Rahul, Harpreet, Gurpreet, Jaskaran, Manpreet,"
            " Rajesh, Sanjay, Nikhil, Siddharth, Ravi, Amit, Karan, Yash, Ishaan"
        ),
        _t(
            "Priya, Priyanka, Ananya, Diya, Kavya, Simran, Harleen, Jasleen, Navneet, Anika, Isha, Meera,"
            " Pooja, Riya, Sakshi, Shreya, Tanvi, Aditi"
        ),
        _t(
            "Patel, Singh, Sharma, Gupta, Kumar, Shah, Mistry, Joshi, Desai, Parmar, Chauhan, Sandhu, Gill,"
            " Dhillon, Sidhu, Bains, Mehta, Rao, Nair, Iyer, Reddy, Pillai, Chopra, Verma, D'Souza, D'Silva"
        ),
        ("Leicester", "Birmingham", "London", "Slough", "Coventry"),
        0.3,
    ),
    Group(
        "nigerian",
        4,
        _t(
            "Oluwaseun, Oluwatobi, Oluwadamilare, Chukwuemeka, Chinedu, Emeka, Adebayo, Ayodele, Babatunde,"
            " Olumide, Tobiloba, Ifeanyi, Obinna, Ikenna, Tunde, Femi, Kelechi, David, Daniel, Samuel,"
            " Joshua, Emmanuel, Victor"
        ),
        _t(
            "Oluwaseyi, Oluwakemi, Temitope, Folasade, Funmilayo, Adaeze, Chiamaka, Ngozi, Chidinma, Ifeoma,"
            " Amarachi, Precious, Blessing, Favour, Esther, Deborah, Ruth, Grace, Adaora, Titilayo, Damilola,"
            " Bukola"
        ),
        _t(
            "Adeyemi, Okafor, Okonkwo, Oladipo, Adebayo, Ogunleye, Eze, Nwosu, Obi, Okeke, Nwachukwu,"
            " Afolabi, Balogun, Ogunbiyi, Akinola, Olawale, Adeleke, Ibrahim, Bello, Oyelaran, Chukwu,"
            " Ogundipe"
        ),
        ("London", "Manchester", "Birmingham", "Leeds", "Northampton"),
        0.7,
    ),
    Group(
        "ghanaian",
        3,
        _t(
            "Kwame, Kofi, Kwabena, Kwaku, Yaw, Kwesi, Kojo, Kobina, Prince, Emmanuel, Isaac, Samuel, Fiifi,"
            " Ebo, Jeffrey, Richmond, Bernard"
        ),
        _t(
            "Akosua, Ama, Abena, Adwoa, Efua, Esi, Yaa, Afua, Akua, Adjoa, Nana, Abigail, Priscilla, Gifty,"
            " Comfort, Linda, Naa, Mercy"
        ),
        _t(
            "Mensah, Owusu, Boateng, Asante, Osei, Acheampong, Agyeman, Appiah, Darko, Amoah, Addo, Ofori,"
            " Antwi, Opoku, Kyei, Ansah, Quaye, Tetteh, Quartey, Adjei, Gyamfi, Bonsu, Frimpong"
        ),
        ("London", "Manchester", "Birmingham", "Leeds"),
        0.5,
    ),
    Group(
        "somali",
        3,
        _t(
            "Abdirahman, Abdullahi, Mohamed, Ahmed, Abdi, Hassan, Yusuf, Ismail, Abdikarim, Abdirizak,"
            " Mustafe, Hamse, Said, Liban, Omar, Abdiaziz, Guled, Sakariye, Ayanle"
        ),
        _t(
            "Hodan, Ayaan, Sagal, Hibo, Fadumo, Amina, Nimco, Ifrah, Ikran, Sahra, Hamdi, Deqa, Ilhan, Ubah,"
            " Maryan, Ladan, Sumaya, Khadra, Filsan"
        ),
        _t(
            "Mohamed, Ahmed, Ali, Hassan, Abdi, Farah, Osman, Omar, Warsame, Jama, Hussein, Nur, Yusuf,"
            " Abdullahi, Aden, Ismail, Egal, Duale, Gure, Hirsi, Elmi, Mohamud, Abdirahman, Isse"
        ),
        ("Bristol", "Cardiff", "Leicester", "London", "Sheffield", "Liverpool", "Birmingham", "Manchester"),
        0.1,
    ),
    Group(
        "chinese",
        3,
        # two-syllable given names are "Syllable Syllable" here; written joined, spaced or hyphenated
        _t(
            "Wei, Hao, Jun, Zi Han, Hao Ran, Yu Xuan, Zhi Wei, Jia Wei, Jun Jie, Tian Yu, Ming, Ka Ho,"
            " Chun Kit, Wing Kin, Jason, Kevin, Eric"
        ),
        _t(
            "Mei, Xin Yi, Yu Ting, Jia Yi, Zi Xuan, Xiao Ling, Yan, Hui, Ling, Wen, Yi Ling, Ka Yan,"
            " Wing Yan, Hoi Ting, Jia Hui, Shu Fen"
        ),
        _t(
            "Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Ma, Zhu, Hu, Guo, Lin, He,"
            " Gao, Luo, Chan, Wong, Cheung, Lam, Lau, Leung, Ho, Ng, Tang, Yip, Cheng"
        ),
        ("Manchester", "London", "Liverpool", "Newcastle upon Tyne", "Glasgow", "Leeds"),
        0.05,
    ),
    Group(
        "portuguese",
        3,
        _t(
            "João, Joao, Tiago, Diogo, Rodrigo, Gonçalo, Afonso, Francisco, Martim, Duarte, Tomás,"
            " Guilherme, Rafael, Miguel, Pedro, Bernardo, Santiago, Lourenço, Vasco, Rúben, Ruben"
        ),
        _t(
            "Maria, Beatriz, Mariana, Leonor, Matilde, Inês, Carolina, Ana, Sofia, Lara, Francisca,"
            " Margarida, Madalena, Constança, Joana, Catarina, Rita, Bianca"
        ),
        _t(
            "Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Martins, Jesus, Sousa, Fernandes,"
            " Gonçalves, Gomes, Lopes, Marques, Alves, Almeida, Ribeiro, Pinto, Carvalho, Teixeira, Moreira,"
            " Correia, Mendes, Nunes, Conceição"
        ),
        ("London", "Thetford", "Peterborough", "Bristol", "Slough"),
        0.4,
    ),
)
GROUP = {g.key: g for g in GROUPS}

# Similar-looking (or traditional) twin name pairs: (name, gender, name, gender, groups).
TWIN_PAIRS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("Ella", "f", "Ellie", "f", ("english", "scottish", "irish", "welsh")),
    ("Leo", "m", "Leon", "m", ("english", "scottish", "irish", "welsh")),
    ("Mia", "f", "Maya", "f", ("english", "scottish", "irish", "welsh")),
    ("Isla", "f", "Isaac", "m", ("english", "scottish")),
    ("Oliver", "m", "Olivia", "f", ("english", "irish", "welsh")),
    ("Daniel", "m", "Danielle", "f", ("english",)),
    ("Louis", "m", "Louise", "f", ("english",)),
    ("Eva", "f", "Evie", "f", ("english", "irish")),
    ("Harry", "m", "Harvey", "m", ("english",)),
    ("Freddie", "m", "Frankie", "m", ("english",)),
    ("Noah", "m", "Nora", "f", ("english", "irish")),
    ("Ava", "f", "Ada", "f", ("english",)),
    ("Ronan", "m", "Rowan", "m", ("irish", "english")),
    ("Lily", "f", "Lola", "f", ("english",)),
    ("Ruby", "f", "Rosie", "f", ("english",)),
    ("Alfie", "m", "Archie", "m", ("english",)),
    ("Amir", "m", "Amira", "f", ("pakistani",)),
    ("Zain", "m", "Zara", "f", ("pakistani",)),
    ("Hassan", "m", "Hussain", "m", ("pakistani", "bangladeshi")),
    ("Hasan", "m", "Husain", "m", ("bangladeshi",)),
    ("Hassan", "m", "Hussein", "m", ("somali",)),
    ("Taiwo", "m", "Kehinde", "m", ("nigerian",)),
    ("Taiwo", "f", "Kehinde", "f", ("nigerian",)),
    ("Taiwo", "f", "Kehinde", "m", ("nigerian",)),
    ("Oliwer", "m", "Oliwia", "f", ("polish",)),
    ("Gabriel", "m", "Gabriela", "f", ("romanian",)),
    ("Jonas", "m", "Jonė", "f", ("lithuanian",)),
    ("Zi Han", "m", "Zi Xuan", "f", ("chinese",)),
    ("Francisco", "m", "Francisca", "f", ("portuguese",)),
    ("Cerys", "f", "Carys", "f", ("welsh",)),
    ("Eilidh", "f", "Ailsa", "f", ("scottish",)),
    ("Kwame", "m", "Kwabena", "m", ("ghanaian",)),
    ("Priya", "f", "Riya", "f", ("indian",)),
)

# Very common full names, for clusters of unrelated namesakes in one town: (given, family, gender, group).
COMMON_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("Mohammed", "Ali", "m", "pakistani"),
    ("Muhammad", "Khan", "m", "pakistani"),
    ("Mohammed", "Hussain", "m", "pakistani"),
    ("Ibrahim", "Hussain", "m", "pakistani"),
    ("Aisha", "Khan", "f", "pakistani"),
    ("Fatima", "Begum", "f", "bangladeshi"),
    ("Mohammed", "Rahman", "m", "bangladeshi"),
    ("Abdullahi", "Mohamed", "m", "somali"),
    ("Mohamed", "Ali", "m", "somali"),
    ("Amina", "Mohamed", "f", "somali"),
    ("Jack", "Jones", "m", "english"),
    ("Oliver", "Smith", "m", "english"),
    ("Olivia", "Smith", "f", "english"),
    ("Jack", "Smith", "m", "english"),
    ("Emily", "Williams", "f", "english"),
    ("Thomas", "Jones", "m", "welsh"),
    ("Megan", "Jones", "f", "welsh"),
    ("Jakub", "Nowak", "m", "polish"),
    ("Harpreet", "Singh", "m", "indian"),
    ("Priya", "Patel", "f", "indian"),
    ("Wei", "Wang", "m", "chinese"),
    ("Maria", "Silva", "f", "portuguese"),
    ("Andrei", "Popescu", "m", "romanian"),
    ("Sean", "Murphy", "m", "irish"),
    ("David", "Okafor", "m", "nigerian"),
    ("Kwame", "Mensah", "m", "ghanaian"),
    ("Ryan", "Campbell", "m", "scottish"),
)

# Given and family names common enough in England that unrelated pupils of one year share them.
COMMON_GIVEN = frozenset(
    _t(
        "Mohammed, Muhammad, Mohamed, Oliver, Jack, Harry, George, Noah, Charlie, Thomas, James, William,"
        " Joshua, Daniel, Samuel, Adam, Ali, Hamza, Ibrahim, Yusuf, Omar, Abdullahi, Ahmed, Jakub, David,"
        " Olivia, Amelia, Isla, Emily, Sophie, Grace, Jessica, Megan, Aisha, Fatima, Maryam, Zainab, Amina,"
        " Maria, Julia, Priya, Harpreet, Wei, Sean, Ryan, Kwame, Andrei, Fatema, Ella, Ruby, Lily, Mia"
    )
)
COMMON_FAMILY = frozenset(
    _t(
        "Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Thomas, Roberts, Johnson, Khan, Ali,"
        " Ahmed, Hussain, Begum, Rahman, Islam, Miah, Uddin, Patel, Singh, Kumar, Mohamed, Hassan, Abdi,"
        " Nowak, Silva, Santos, Murphy, Kelly, Wang, Li, Zhang, Chen, Campbell, Popescu, Mensah, Okafor"
    )
)


def is_common_name(given: str, family: str) -> bool:
    return given in COMMON_GIVEN and family in COMMON_FAMILY


# Diminutives and familiar forms (formal -> what a school may have instead).
NICKNAMES: Mapping[str, tuple[str, ...]] = {
    "Alexander": ("Alex", "Xander", "Sandy"),
    "Alexandra": ("Alex", "Lexi", "Sasha"),
    "Aleksander": ("Olek", "Alek"),
    "Aleksandra": ("Ola",),
    "Alexandru": ("Alex", "Sandu"),
    "Katherine": ("Kate", "Katie"),
    "Catherine": ("Cathy", "Kate"),
    "Kathryn": ("Kate", "Kathy"),
    "Katarzyna": ("Kasia",),
    "Małgorzata": ("Gosia",),
    "Agnieszka": ("Aga",),
    "Jakub": ("Kuba",),
    "Wojciech": ("Wojtek",),
    "Krzysztof": ("Krzyś",),
    "Magdalena": ("Magda",),
    "Weronika": ("Nika",),
    "Joanna": ("Asia",),
    "Stanisław": ("Staś",),
    "Tomasz": ("Tomek",),
    "Piotr": ("Piotrek",),
    "Zuzanna": ("Zuzia",),
    "Zofia": ("Zosia",),
    "Mateusz": ("Mati",),
    "William": ("Will", "Liam", "Billy"),
    "Margaret": ("Maggie", "Meg"),
    "Elizabeth": ("Beth", "Liz", "Lizzie", "Eliza"),
    "Thomas": ("Tom", "Tommy"),
    "Joseph": ("Joe",),
    "Samuel": ("Sam",),
    "Benjamin": ("Ben",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Nicholas": ("Nick",),
    "Christopher": ("Chris",),
    "Jonathan": ("Jon", "Jonny"),
    "James": ("Jamie",),
    "Robert": ("Rob", "Bobby"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Frederick": ("Freddie", "Fred"),
    "Henry": ("Harry",),
    "Jessica": ("Jess",),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Tori", "Vicky"),
    "Abigail": ("Abbie", "Abi"),
    "Olivia": ("Liv",),
    "Isabella": ("Bella", "Izzy"),
    "Amelia": ("Millie",),
    "Charlotte": ("Lottie",),
    "Eleanor": ("Ellie", "Nell"),
    "Zachary": ("Zach",),
    "Joshua": ("Josh",),
    "Nathan": ("Nate",),
    "Imogen": ("Immy",),
    "Georgia": ("Georgie",),
    "Stephen": ("Steve",),
    "Rhiannon": ("Rhi",),
    "Gwenllian": ("Gwen",),
    "Dafydd": ("Dai",),
    "Gruffydd": ("Gruff", "Guto"),
    "Bethan": ("Beth",),
    "Catrin": ("Cat",),
    "Alasdair": ("Ali",),
    "Alistair": ("Ali",),
    "Catriona": ("Cat", "Trina"),
    "Lachlan": ("Lachie",),
    "Finlay": ("Finn",),
    "Patrick": ("Paddy",),
    "Pádraig": ("Paddy",),
    "Oluwaseun": ("Seun",),
    "Oluwatobi": ("Tobi",),
    "Oluwadamilare": ("Dami",),
    "Oluwaseyi": ("Seyi",),
    "Oluwakemi": ("Kemi",),
    "Chukwuemeka": ("Emeka",),
    "Babatunde": ("Tunde",),
    "Temitope": ("Tope", "Temi"),
    "Folasade": ("Sade",),
    "Funmilayo": ("Funmi",),
    "Titilayo": ("Titi",),
    "Adebayo": ("Bayo",),
    "Tobiloba": ("Tobi",),
    "Chiamaka": ("Amaka",),
    "Damilola": ("Dami",),
    "Abdirahman": ("Abdi",),
    "Abdullahi": ("Abdi",),
    "Abdikarim": ("Abdi",),
    "Abdirizak": ("Abdi",),
    "Mohamed": ("Mo",),
    "Mohammed": ("Mo",),
    "Muhammad": ("Mo",),
    "Priyanka": ("Priya",),
    "Siddharth": ("Sid",),
    "Rajesh": ("Raj",),
    "Francisco": ("Chico",),
    "Guilherme": ("Gui",),
    "Gabriela": ("Gabi",),
    "Dominykas": ("Domas",),
    "Gabrielius": ("Gabriel",),
    "Jaskaran": ("Jas",),
}

# Spellings and transliterations of one name (given or family), and anglicised forms.
VARIANT_SETS: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohammad", "Mohamed", "Muhammed"),
    ("Ahmed", "Ahmad"),
    ("Hussain", "Hussein", "Husain"),
    ("Yusuf", "Yousuf", "Yusef"),
    ("Aisha", "Ayesha"),
    ("Fatima", "Fatema"),
    ("Mariam", "Maryam"),
    ("Chowdhury", "Choudhury", "Chaudhry"),
    ("Rahman", "Rehman"),
    ("Haque", "Hoque"),
    ("Aiden", "Aidan"),
    ("Jayden", "Jaden", "Jaydon"),
    ("Katherine", "Catherine", "Kathryn"),
    ("Sean", "Shaun", "Shawn"),
    ("Siobhan", "Shivaun"),
    ("Niamh", "Neve"),
    ("Callum", "Calum"),
    ("Euan", "Ewan"),
    ("Alasdair", "Alistair", "Alastair"),
    ("Leah", "Lea"),
    ("Zoe", "Zoey"),
    ("MacDonald", "McDonald"),
    ("MacLeod", "McLeod"),
    ("MacKenzie", "McKenzie"),
    ("Stephen", "Steven"),
    ("Jakub", "Jacob"),
    ("Michał", "Michael"),
    ("Piotr", "Peter"),
    ("Paweł", "Paul"),
    ("Dafydd", "David"),
    ("Stefan", "Stephen"),
    ("Ștefan", "Stefan"),
    ("Smyth", "Smith"),
    ("Thomson", "Thompson"),
    ("Mia", "Miah"),
    ("Miah", "Mia"),
    ("Abdi", "Abdy"),
    ("Mohamud", "Mahmood"),
    ("Oliwia", "Olivia"),
    ("Oliwer", "Oliver"),
    ("Sofia", "Sophia"),
    ("Zain", "Zayn"),
    ("Rayyan", "Rayan"),
    ("Ayaan", "Ayan"),
    ("Inaaya", "Inaya"),
    ("Aleena", "Alina"),
    ("Uddin", "Udin"),
    ("Hossain", "Hosain"),
    ("Begum", "Begom"),
)

STREET_STEMS = _t(
    "Victoria, Albert, Church, Station, Mill, Park, Queen's, King, Manor, Grange, Oak, Beech, Chapel,"
    " Clarendon, St John's, Cavendish, Belgrave, Stanley, Alexandra, Windsor, Warwick, Brunswick, Elm,"
    " Hawthorn, Orchard, Springfield, Highfield, Moorland, Westfield, Cross, Market, Bridge, Castle,"
    " Regent, Wellington, Nelson, Palmerston, Gladstone, Cemetery, Harehills, Cambridge, Oxford, York,"
    " Lime, Ash, Rose, Willow, Heath, Green, Forest, Priory, Abbey, Tudor, Balmoral, Primrose, Meadow"
)
STREET_KINDS = _t(
    "Road, Road, Road, Street, Street, Lane, Avenue, Close, Grove, Terrace, Crescent, Drive, Way, Place,"
    " Gardens, Mount, View"
)
WELSH_STREETS = _t(
    "Heol y Deri, Ffordd yr Orsaf, Heol Eglwys, Stryd Fawr, Heol y Nant, Lôn Isaf, Maes y Coed"
)
ABBREVIATIONS = {
    "Road": "Rd",
    "Street": "St",
    "Avenue": "Ave",
    "Lane": "Ln",
    "Close": "Cl",
    "Crescent": "Cres",
    "Drive": "Dr",
    "Terrace": "Terr",
    "Gardens": "Gdns",
    "Place": "Pl",
}
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    county: str
    outward: tuple[str, ...]
    localities: tuple[str, ...]
    weight: float


TOWNS: tuple[Town, ...] = (
    Town(
        "Leeds",
        "West Yorkshire",
        _t("LS6, LS7, LS8, LS9, LS11, LS12"),
        _t("Harehills, Chapeltown, Beeston, Armley, Headingley"),
        5,
    ),
    Town(
        "Bradford",
        "West Yorkshire",
        _t("BD3, BD5, BD7, BD8, BD9"),
        _t("Manningham, Girlington, Little Horton"),
        4,
    ),
    Town(
        "Manchester",
        "Greater Manchester",
        _t("M8, M13, M14, M16, M40"),
        _t("Cheetham Hill, Longsight, Rusholme, Moss Side"),
        5,
    ),
    Town(
        "Birmingham",
        "West Midlands",
        _t("B8, B10, B11, B12, B20"),
        _t("Small Heath, Sparkhill, Handsworth, Alum Rock"),
        6,
    ),
    Town(
        "London",
        "Greater London",
        _t("E1, E2, E7, E12, N15, N17, SE15, SE28, SW8, NW10"),
        _t("Whitechapel, Forest Gate, Tottenham, Peckham, Stockwell, Harlesden"),
        10,
    ),
    Town(
        "Cardiff",
        "South Glamorgan",
        _t("CF5, CF10, CF11, CF14, CF24"),
        _t("Roath, Grangetown, Splott, Canton"),
        3,
    ),
    Town("Swansea", "West Glamorgan", _t("SA1, SA2, SA5, SA6"), _t("Morriston, Townhill, Sketty"), 2),
    Town("Wrexham", "Clwyd", _t("LL11, LL12, LL13"), _t("Rhosddu, Acton"), 1),
    Town(
        "Glasgow", "Lanarkshire", _t("G3, G12, G31, G41, G42"), _t("Govanhill, Pollokshields, Dennistoun"), 3
    ),
    Town("Edinburgh", "Midlothian", _t("EH6, EH7, EH11, EH16"), _t("Leith, Gorgie"), 2),
    Town("Luton", "Bedfordshire", _t("LU1, LU2, LU3, LU4"), _t("Bury Park, Dallow"), 2),
    Town(
        "Leicester", "Leicestershire", _t("LE1, LE2, LE4, LE5"), _t("Belgrave, Highfields, Spinney Hill"), 3
    ),
    Town("Peterborough", "Cambridgeshire", _t("PE1, PE2, PE3, PE4"), _t("Millfield, New England"), 2),
    Town("Boston", "Lincolnshire", _t("PE21"), _t("Skirbeck, Fenside"), 1),
    Town("Bristol", "Avon", _t("BS2, BS5, BS6, BS13"), _t("Easton, St Pauls, Lawrence Hill"), 3),
    Town("Sheffield", "South Yorkshire", _t("S2, S4, S8, S9"), _t("Darnall, Page Hall, Sharrow"), 3),
    Town("Liverpool", "Merseyside", _t("L4, L6, L8, L15"), _t("Toxteth, Anfield, Wavertree"), 3),
    Town("Slough", "Berkshire", _t("SL1, SL2, SL3"), _t("Chalvey, Cippenham"), 1),
    Town("Oldham", "Greater Manchester", _t("OL1, OL4, OL8, OL9"), _t("Glodwick, Werneth"), 2),
    Town("Newcastle upon Tyne", "Tyne and Wear", _t("NE2, NE4, NE6"), _t("Elswick, Benwell, Heaton"), 2),
    Town("Northampton", "Northamptonshire", _t("NN1, NN2, NN5"), _t("Semilong, Kingsthorpe"), 1),
    Town("Thetford", "Norfolk", _t("IP24"), _t("Abbey Estate"), 1),
    Town("Coventry", "West Midlands", _t("CV1, CV2, CV6"), _t("Foleshill, Hillfields"), 2),
    Town("Southampton", "Hampshire", _t("SO14, SO15, SO17"), _t("Shirley, Portswood"), 2),
)
TOWN = {t.name: t for t in TOWNS}

# ================================================================================================ people


@dataclass(frozen=True, slots=True)
class Street:
    town: Town
    name: str
    outward: str
    sector: int
    units: tuple[str, ...]
    locality: str


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    line2: str
    town: str
    county: str
    postcode: str
    street: str  # street name and town, to tell neighbours apart


@dataclass(slots=True)
class Person:
    """One invented person, as school A would write them."""

    pid: str
    group: str
    given: str
    middle: str
    family: str
    household_family: str  # the family name as a father carries it (Polish -ski, Lithuanian -as)
    gender: str  # male / female / not-known
    born: date
    address: Address
    household: int
    kind: str = "other"  # twin / sibling / namesake / other (file A) ; file B new people: their category
    in_file_a: bool = True
    related: str = ""  # the person a new file-B person resembles
    given_parts: tuple[str, ...] = ()  # a Chinese two-syllable given name's syllables


@dataclass
class World:
    rng: random.Random
    last_birth: date  # a pupil born after this is under MINIMUM_AGE today
    streets: dict[str, list[Street]] = field(default_factory=dict)
    used: set[tuple[str, int]] = field(default_factory=set)
    people: list[Person] = field(default_factory=list)
    households: int = 0
    plain_households: dict[int, bool] = field(default_factory=dict)  # names written without diacritics

    def person_id(self) -> str:
        return f"P{len(self.people) + 1:05d}"


def latest_birth(today: date) -> date:
    """The last date of birth of someone MINIMUM_AGE or older today, less two days of margin."""
    try:
        day = today.replace(year=today.year - MINIMUM_AGE)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - MINIMUM_AGE, day=28)
    return day - timedelta(days=2)


def valid_birth(world: World, born: date) -> bool:
    return EARLIEST_BIRTH <= born <= world.last_birth


def build_streets(rng: random.Random) -> dict[str, list[Street]]:
    """Twelve streets a town, each in one of the town's outward codes and one sector."""
    out: dict[str, list[Street]] = {}
    for town in TOWNS:
        names: set[str] = set()
        welsh = town.name in ("Cardiff", "Swansea", "Wrexham")
        while len(names) < 12:
            if welsh and rng.random() < 0.3:
                names.add(rng.choice(WELSH_STREETS))
            else:
                names.add(f"{rng.choice(STREET_STEMS)} {rng.choice(STREET_KINDS)}")
        streets = []
        for name in sorted(names):
            units = tuple(rng.choice(UNIT_LETTERS) + rng.choice(UNIT_LETTERS) for _ in range(20))
            locality = rng.choice(town.localities) if rng.random() < 0.35 else ""
            streets.append(Street(town, name, rng.choice(town.outward), rng.randint(1, 9), units, locality))
        out[town.name] = streets
    return out


def new_address(world: World, town: Town, avoid_street: str = "") -> Address:
    """A house not yet used, on a street of ``town`` other than ``avoid_street``."""
    rng = world.rng
    while True:
        street = rng.choice(world.streets[town.name])
        if f"{street.name}, {town.name}" == avoid_street:
            continue
        number = rng.randint(1, 199)
        if (f"{street.name}, {town.name}", number) in world.used:
            continue
        world.used.add((f"{street.name}, {town.name}", number))
        unit = street.units[(number - 1) // 10]
        line1 = f"{number} {street.name}"
        if rng.random() < 0.08:
            line1 = f"Flat {rng.randint(1, 12)}, {line1}"
        postcode = f"{street.outward} {street.sector}{unit}"
        return Address(
            line1, street.locality, town.name, town.county, postcode, f"{street.name}, {town.name}"
        )


def pick_town(rng: random.Random, group: Group) -> Town:
    if group.towns and rng.random() < 0.8:
        return TOWN[rng.choice(group.towns)]
    return rng.choices(TOWNS, weights=[t.weight for t in TOWNS])[0]


def feminine(family: str, group: str) -> str:
    """The form of a family name a girl carries in Polish and Lithuanian (unmarried daughter)."""
    if group == "polish":
        for masc, fem in (("dzki", "dzka"), ("cki", "cka"), ("ski", "ska")):
            if family.endswith(masc):
                return family[: -len(masc)] + fem
        return family
    if group == "lithuanian":
        for masc, fem in (("ius", "iūtė"), ("is", "ytė"), ("as", "aitė"), ("us", "utė"), ("ys", "ytė")):
            if family.endswith(masc):
                return family[: -len(masc)] + fem
    return family


_UNDECOMPOSED: dict[str, str | int | None] = {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "đ": "d"}
_UNDECOMPOSED_TABLE = str.maketrans(_UNDECOMPOSED)


def strip_accents(text: str) -> str:
    """Letters without their diacritics (Zoë -> Zoe, Łukasz -> Lukasz, Ștefan -> Stefan)."""
    text = text.translate(_UNDECOMPOSED_TABLE)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def chinese_form(rng: random.Random, parts: tuple[str, ...]) -> str:
    """A two-syllable Chinese given name as a school writes it: Jiahui, Jia Hui or Jia-Hui."""
    if len(parts) < 2:
        return parts[0]
    return rng.choices(
        ["".join(parts[:1]) + parts[1].lower(), " ".join(parts), "-".join(parts)], weights=[6, 3, 1]
    )[0]


def pupil_birth(world: World) -> date:
    last = min(PUPIL_LAST_BIRTH, world.last_birth)
    return PUPIL_FIRST_BIRTH + timedelta(days=world.rng.randint(0, (last - PUPIL_FIRST_BIRTH).days))


def pick_given(rng: random.Random, group: Group, gender: str, taken: Iterable[str]) -> str:
    names = group.male if gender == "male" else group.female
    avoid = {strip_accents(n).casefold() for n in taken}
    avoid |= {n.casefold() for t in taken for n in NICKNAMES.get(t, ())}
    for _ in range(50):
        name = rng.choice(names)
        if strip_accents(name).casefold() not in avoid:
            return name
    return rng.choice(names)


def make_person(
    world: World,
    group: Group,
    gender: str,
    given: str,
    household_family: str,
    born: date,
    address: Address,
    household: int,
) -> Person:
    rng = world.rng
    parts = tuple(given.split(" ")) if group.key == "chinese" else ()
    written_given = chinese_form(rng, parts) if len(parts) == 2 else given
    middle = ""
    if (
        gender == "male"
        and group.key in ("pakistani", "bangladeshi")
        and rng.random() < 0.2
        and given not in ("Mohammed", "Muhammad")
    ):
        # called by the middle name at home: "Mohammed Hamza Khan"
        middle, written_given = given, rng.choice(("Mohammed", "Muhammad"))
    elif rng.random() < group.middle_share:
        names = group.male if gender == "male" else group.female
        plain = strip_accents(given)
        middle = rng.choice([n for n in names if strip_accents(n) != plain and " " not in n] or [""])
    family = feminine(household_family, group.key) if gender == "female" else household_family
    if group.key in ("polish", "romanian", "lithuanian", "portuguese", "irish", "welsh") and (
        world.plain_households.setdefault(household, rng.random() < 0.2)
    ):
        # school A's MIS dropped the diacritics of this family (of all its children alike)
        written_given, middle, family = (
            strip_accents(written_given),
            strip_accents(middle),
            strip_accents(family),
        )
    person = Person(
        world.person_id(),
        group.key,
        written_given,
        middle,
        family,
        household_family,
        gender,
        born,
        address,
        household,
        given_parts=parts,
    )
    world.people.append(person)
    return person


def household_family_name(rng: random.Random, group: Group) -> str:
    family = rng.choice(group.family)
    if group.key in ("english", "welsh", "scottish", "irish") and rng.random() < 0.08:
        other = rng.choice(GROUP["english"].family)
        if other != family and " " not in family:
            family = f"{family}-{other}"
    if group.key == "portuguese" and rng.random() < 0.25:
        other = rng.choice(group.family)
        if other != family:
            family = f"{family} {other}"
    return family


def gender_of(rng: random.Random) -> str:
    return rng.choices(("male", "female", "not-known"), weights=(49, 49, 2))[0]


def add_household(world: World, group: Group) -> list[Person]:
    """One household: an only child, siblings, or twins (with perhaps a sibling); some children are held
    back for file B (the twin or sibling school A never registered)."""
    rng = world.rng
    world.households += 1
    hh = world.households
    town = pick_town(rng, group)
    address = new_address(world, town)
    family = household_family_name(rng, group)
    shape = rng.choices(("one", "two", "three", "twins", "twins+1"), weights=(52, 30, 9, 6, 3))[0]
    children: list[Person] = []
    taken: list[str] = []
    if shape.startswith("twins"):
        born = pupil_birth(world)
        pairs = [p for p in TWIN_PAIRS if group.key in p[4]]
        if pairs and rng.random() < 0.5:
            a, ga, b, gb, _ = rng.choice(pairs)
            genders = {"m": "male", "f": "female"}
            twins = [(a, genders[ga]), (b, genders[gb])]
        else:
            g1, g2 = gender_of(rng), gender_of(rng)
            n1 = pick_given(rng, group, g1, [])
            twins = [(n1, g1), (pick_given(rng, group, g2, [n1]), g2)]
        for name, gender in twins:
            children.append(make_person(world, group, gender, name, family, born, address, hh))
            taken.append(name)
        for c in children:
            c.kind = "twin"
        if rng.random() < 0.4:
            held = rng.choice(children)
            held.in_file_a, held.kind = False, "twin_new"
            held.related = next(c.pid for c in children if c is not held)
    extra = {"one": 1, "two": 2, "three": 3, "twins": 0, "twins+1": 1}[shape]
    first = children[0].born if children else pupil_birth(world)
    dates = [c.born for c in children]
    for i in range(extra):
        maybe = first if i == 0 and not children else _sibling_birth(world, dates)
        if maybe is None:
            break
        born = maybe
        gender = gender_of(rng)
        name = pick_given(rng, group, gender, taken)
        taken.append(name)
        dates.append(born)
        children.append(make_person(world, group, gender, name, family, born, address, hh))
    _fix_middles(world, group, children)
    if len(children) > 1:
        for c in children:
            if c.kind == "other":
                c.kind = "sibling"
        singles = [c for c in children if c.kind == "sibling"]
        if singles and rng.random() < 0.15 and sum(c.in_file_a for c in children) > 1:
            held = rng.choice(singles)
            held.in_file_a, held.kind = False, "sibling_new"
            held.related = next(c.pid for c in children if c is not held and c.in_file_a)
    return children


def _fix_middles(world: World, group: Group, children: Sequence[Person]) -> None:
    """No child's middle name is a brother's or sister's given name (parents do not do that)."""
    givens = {strip_accents(c.given).casefold() for c in children}
    givens |= {strip_accents(p).casefold() for c in children for p in c.given_parts}
    for c in children:
        if (
            c.middle
            and strip_accents(c.middle).casefold() in givens
            and c.given not in ("Mohammed", "Muhammad")
        ):
            names = group.male if c.gender == "male" else group.female
            left = [n for n in names if strip_accents(n).casefold() not in givens and " " not in n]
            c.middle = world.rng.choice(left) if left else ""


def _sibling_birth(world: World, dates: Sequence[date]) -> date | None:
    """A date in the pupil range at least 300 days from every other child's."""
    for _ in range(30):
        born = pupil_birth(world)
        if all(abs((born - d).days) >= 300 for d in dates):
            return born
    return None


def add_namesake_cluster(world: World) -> None:
    """Two or three unrelated households in one town, each with a child of one very common name, born in
    one year (half of them in one month)."""
    rng = world.rng
    given, family, g, key = rng.choice(COMMON_NAMES)
    group = GROUP[key]
    gender = "male" if g == "m" else "female"
    town = pick_town(rng, group)
    year = rng.randint(PUPIL_FIRST_BIRTH.year, min(PUPIL_LAST_BIRTH.year, world.last_birth.year) - 1)
    month = rng.randint(1, 12)
    written = feminine(family, key) if gender == "female" else family
    # never the date of birth of anyone of this name (clusters of one name may meet in one town)
    dates = {p.born for p in world.people if (p.given, p.family) == (given, written)}
    for _ in range(rng.choice((2, 2, 3))):
        world.households += 1
        while True:  # same-date namesakes are a category of their own (file B)
            m = month if rng.random() < 0.5 else rng.randint(1, 12)
            born = date(year, m, rng.randint(1, 28))
            if born not in dates:
                break
        dates.add(born)
        person = make_person(
            world, group, gender, given, family, born, new_address(world, town), world.households
        )
        person.given, person.family = given, written
        if person.middle == given:
            person.middle = ""
        person.kind = "namesake"


def build_population(people: int, seed: int, today: date) -> World:
    rng = random.Random(seed)
    world = World(rng, latest_birth(today))
    world.streets = build_streets(rng)
    clusters = max(1, round(people * 0.012))
    for _ in range(clusters):
        add_namesake_cluster(world)
    while sum(p.in_file_a for p in world.people) < people:
        add_household(world, rng.choices(GROUPS, weights=[g.weight for g in GROUPS])[0])
    return world


# ========================================================================================= file B people


def add_new_people(world: World, registered: Sequence[Person]) -> None:
    """File B's people who never held a ULN but look like someone who did (the held-back twins and siblings
    are already in ``world.people``)."""
    rng = world.rng
    share = max(5, round(len(registered) * 0.012))
    pupils = [p for p in registered if p.born >= PUPIL_FIRST_BIRTH]
    # namesakes only of common names: two pupils of a rare name, born a few days apart in one town, are
    # far more likely one pupil; that would not be a fair test
    commonish = [p for p in registered if is_common_name(p.given, p.family)] or list(registered)

    for pupil in rng.sample(pupils, share):  # a parent with the pupil's exact name at the same address
        year = pupil.born.year - rng.randint(25, 35)
        born = date(year, rng.randint(1, 12), rng.randint(1, 28))
        parent = _copy_person(world, pupil, born, pupil.address, "parent_same_name")
        parent.middle = pupil.middle if rng.random() < 0.5 else ""

    taken: dict[tuple[str, str], set[date]] = defaultdict(set)  # no namesake shares anyone's date
    for p in world.people:
        taken[(p.given, p.family)].add(p.born)
    for i in range(share * 3):  # unrelated namesakes
        pupil = rng.choice(commonish)
        town = TOWN[pupil.address.town]
        kind = ("namesake_same_year_town", "namesake_same_month_town", "namesake_same_dob_other_town")[i % 3]
        if kind == "namesake_same_dob_other_town":
            other = rng.choice([t for t in TOWNS if t is not town])
            _copy_person(world, pupil, pupil.born, new_address(world, other), kind)
            continue
        for _ in range(50):
            if kind == "namesake_same_year_town":
                born = date(pupil.born.year, rng.randint(1, 12), rng.randint(1, 28))
            else:
                born = date(pupil.born.year, pupil.born.month, rng.randint(1, 28))
            if born not in taken[(pupil.given, pupil.family)] and valid_birth(world, born):
                break
        taken[(pupil.given, pupil.family)].add(born)
        _copy_person(world, pupil, born, new_address(world, town, pupil.address.street), kind)

    before = len(world.people)
    while len(world.people) - before < share:  # plain new pupils, for the base rate
        for p in add_household(world, rng.choices(GROUPS, weights=[g.weight for g in GROUPS])[0]):
            p.in_file_a, p.kind, p.related = False, "new_unrelated", ""


def _namesake_middle(world: World, like: Person) -> str:
    """An unrelated namesake's middle name: none, or another name than ``like``'s."""
    if world.rng.random() < 0.5:
        return ""
    group = GROUP[like.group]
    names = [n for n in (group.male if like.gender == "male" else group.female) if " " not in n]
    left = [n for n in names if n not in (like.given, like.middle)]
    return world.rng.choice(left) if left else ""


def _copy_person(world: World, like: Person, born: date, address: Address, kind: str) -> Person:
    world.households += 1
    person = Person(
        world.person_id(),
        like.group,
        like.given,
        _namesake_middle(world, like) if kind.startswith("namesake") else like.middle,
        like.family,
        like.household_family,
        like.gender,
        born,
        address,
        world.households,
        kind,
        False,
        like.pid,
    )
    world.people.append(person)
    return person


# =============================================================================================== changes

Fields = dict[str, str]
Change = Callable[[World, Person, Fields], bool]

_NEIGHBOURS = {
    "q": "wa",
    "w": "qes",
    "e": "wrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "ol",
    "a": "qsz",
    "s": "adwz",
    "d": "sfec",
    "f": "dgrv",
    "g": "fhtb",
    "h": "gjyn",
    "j": "hkum",
    "k": "jlim",
    "l": "kop",
    "z": "asx",
    "x": "zsc",
    "c": "xdv",
    "v": "cfb",
    "b": "vgn",
    "n": "bhm",
    "m": "njk",
}


def typo(rng: random.Random, name: str) -> str:
    """One keyboard slip: a neighbouring key, a letter dropped, doubled or two letters swapped."""
    for _ in range(40):
        letters = [i for i, c in enumerate(name) if c.isalpha()]
        i = rng.choice(letters[1:] if len(letters) > 1 and rng.random() < 0.9 else letters)
        op = rng.choice(("sub", "del", "ins", "swap") if len(letters) > 3 else ("sub", "ins", "swap"))
        c = name[i]
        base = strip_accents(c).lower() or c
        if op == "sub":
            new = rng.choice(_NEIGHBOURS.get(base, "aeiou"))
            out = name[:i] + (new.upper() if c.isupper() else new) + name[i + 1 :]
        elif op == "del":
            out = name[:i] + name[i + 1 :]
        elif op == "ins":
            out = name[: i + 1] + c.lower() + name[i + 1 :]  # a doubled letter
        else:
            if i + 1 >= len(name) or not name[i + 1].isalpha():
                continue
            a, b = name[i], name[i + 1]
            b = b.upper() if a.isupper() else b.lower()  # the letters move, the capitals stay
            a = a.upper() if name[i + 1].isupper() else a.lower()
            out = name[:i] + b + a + name[i + 2 :]
        if out != name and strip_accents(out).casefold() != strip_accents(name).casefold():
            return out
    return name + "e"


def _move(world: World, person: Person, f: Fields, same_town: bool) -> None:
    town = TOWN[person.address.town]
    if not same_town:
        town = pick_town(world.rng, GROUP[person.group])
        while town.name == person.address.town:
            town = world.rng.choice(TOWNS)
    a = new_address(world, town, person.address.street)
    f.update(address_line1=a.line1, address_line2=a.line2, town=a.town, county=a.county, postcode=a.postcode)


def _other_family(world: World, person: Person) -> str:
    pool = GROUP[person.group].family if world.rng.random() < 0.5 else GROUP["english"].family
    while True:
        name = world.rng.choice(pool)
        if strip_accents(name).casefold() not in strip_accents(person.family).casefold():
            return feminine(name, person.group) if person.gender == "female" else name


def ch_exact(world: World, person: Person, f: Fields) -> bool:
    return True


def ch_given_typo(world: World, person: Person, f: Fields) -> bool:
    f["given_name"] = typo(world.rng, f["given_name"])
    return True


def ch_family_typo(world: World, person: Person, f: Fields) -> bool:
    f["family_name"] = typo(world.rng, f["family_name"])
    return True


def ch_nickname(world: World, person: Person, f: Fields) -> bool:
    for formal, short in NICKNAMES.items():
        if strip_accents(formal) == strip_accents(f["given_name"]):
            f["given_name"] = world.rng.choice(short)
            return True
    return False


def ch_variant(world: World, person: Person, f: Fields) -> bool:
    options = []
    for key in ("given_name", "family_name"):
        for group in VARIANT_SETS:
            if f[key] in group:
                options += [(key, v) for v in group if v != f[key]]
    if not options:
        return False
    key, value = world.rng.choice(options)
    f[key] = value
    return True


def ch_surname_gender_form(world: World, person: Person, f: Fields) -> bool:
    father = person.household_family
    if f["family_name"].isascii():
        father = strip_accents(father)
    if person.gender != "female" or f["family_name"] == father:
        return False
    f["family_name"] = father
    return True


def ch_double_barrel_dropped(world: World, person: Person, f: Fields) -> bool:
    for sep in ("-", " "):
        parts = f["family_name"].split(sep)
        if len(parts) == 2 and not f["family_name"].startswith(("ap ", "Mac ", "Ó ", "Ní ")):
            f["family_name"] = world.rng.choice(parts)
            return True
    return False


def ch_double_barrel_added(world: World, person: Person, f: Fields) -> bool:
    if any(c in f["family_name"] for c in "- '"):
        return False
    other = world.rng.choice(GROUP["english"].family)
    if other == f["family_name"]:
        return False
    first = world.rng.random() < 0.5
    f["family_name"] = f"{f['family_name']}-{other}" if first else f"{other}-{f['family_name']}"
    return True


def ch_family_changed_same_address(world: World, person: Person, f: Fields) -> bool:
    f["family_name"] = _other_family(world, person)
    return True


def ch_family_changed_previous_given(world: World, person: Person, f: Fields) -> bool:
    f["previous_family_name"] = f["family_name"]
    f["family_name"] = _other_family(world, person)
    return True


def ch_family_changed_moved(world: World, person: Person, f: Fields) -> bool:
    f["family_name"] = _other_family(world, person)
    _move(world, person, f, same_town=world.rng.random() < 0.5)
    return True


def ch_moved_same_town(world: World, person: Person, f: Fields) -> bool:
    _move(world, person, f, same_town=True)
    return True


def ch_moved_other_town(world: World, person: Person, f: Fields) -> bool:
    _move(world, person, f, same_town=False)
    return True


def ch_postcode_zz99(world: World, person: Person, f: Fields) -> bool:
    f["postcode"] = NOT_KNOWN_POSTCODE
    return True


def ch_postcode_blank(world: World, person: Person, f: Fields) -> bool:
    f["postcode"] = ""
    return True


def ch_address_written_differently(world: World, person: Person, f: Fields) -> bool:
    line = f["address_line1"]
    for full, short in ABBREVIATIONS.items():
        if line.endswith(" " + full):
            line = line[: -len(full)] + short
            break
    else:
        line = line.upper()
    f["address_line1"] = line
    f["address_line2"] = ""
    f["postcode"] = f["postcode"].replace(" ", "").lower()
    return True


def _set_birth(world: World, f: Fields, born: date) -> bool:
    if not valid_birth(world, born) or born.isoformat() == f["date_of_birth"]:
        return False
    f["date_of_birth"] = born.isoformat()
    return True


def ch_dob_day_month_swapped(world: World, person: Person, f: Fields) -> bool:
    d = date.fromisoformat(f["date_of_birth"])
    if d.day > 12 or d.day == d.month:
        return False
    return _set_birth(world, f, date(d.year, d.day, d.month))


def ch_dob_off_by_one(world: World, person: Person, f: Fields) -> bool:
    d = date.fromisoformat(f["date_of_birth"])
    return _set_birth(world, f, d + timedelta(days=world.rng.choice((-1, 1))))


def ch_dob_year_digit(world: World, person: Person, f: Fields) -> bool:
    d = date.fromisoformat(f["date_of_birth"])
    text = str(d.year)
    options = []
    for pos in (3, 3, 3, 2):
        for digit in "0123456789":
            year = int(text[:pos] + digit + text[pos + 1 :])
            if year != d.year:
                try:
                    candidate = d.replace(year=year)
                except ValueError:
                    continue
                if valid_birth(world, candidate):
                    options.append(candidate)
    return bool(options) and _set_birth(world, f, world.rng.choice(options))


def ch_dob_wildly_wrong(world: World, person: Person, f: Fields) -> bool:
    d = date.fromisoformat(f["date_of_birth"])
    for _ in range(20):
        born = date(
            world.rng.randint(2000, world.last_birth.year), world.rng.randint(1, 12), world.rng.randint(1, 28)
        )
        if abs(born.year - d.year) >= 2 and _set_birth(world, f, born):
            return True
    return False


def ch_given_middle_swapped(world: World, person: Person, f: Fields) -> bool:
    if not f["middle_names"]:
        return False
    f["given_name"], f["middle_names"] = f["middle_names"], f["given_name"]
    return True


def ch_middle_dropped_or_added(world: World, person: Person, f: Fields) -> bool:
    if f["middle_names"]:
        f["middle_names"] = ""
    else:
        g = GROUP[person.group]
        names = g.male if person.gender == "male" else g.female
        f["middle_names"] = world.rng.choice([n for n in names if n != f["given_name"]])
    return True


def ch_given_family_swapped(world: World, person: Person, f: Fields) -> bool:
    f["given_name"], f["family_name"] = f["family_name"], f["given_name"]
    return True


def ch_accents_removed(world: World, person: Person, f: Fields) -> bool:
    if f["given_name"].isascii() and f["family_name"].isascii():
        return False
    for key in ("given_name", "middle_names", "family_name"):
        f[key] = strip_accents(f[key])
    return True


def _accented() -> dict[str, str]:
    out: dict[str, str] = {}
    for g in GROUPS:
        for name in (*g.male, *g.female, *g.family, *(feminine(n, g.key) for n in g.family)):
            if not name.isascii():
                out.setdefault(strip_accents(name), name)
    return out


ACCENTED = _accented()


def ch_accents_added(world: World, person: Person, f: Fields) -> bool:
    done = False
    for key in ("given_name", "family_name"):
        if f[key] in ACCENTED:
            f[key] = ACCENTED[f[key]]
            done = True
    return done


def ch_punctuation(world: World, person: Person, f: Fields) -> bool:
    """Apostrophes, hyphens, spaces and Mc/Mac written another way, in the family or given name."""
    rng = world.rng
    options: list[tuple[str, str]] = []
    for key in ("family_name", "given_name"):
        name = f[key]
        if "'" in name:
            options += [
                (key, name.replace("'", "")),
                (key, name.replace("'", " ")),
                (key, name.replace("'", "’")),
            ]
        if "-" in name:
            options += [
                (key, name.replace("-", " ")),
                (key, name.replace("-", "")),
            ]
        if " " in name:
            options += [(key, name.replace(" ", "-")), (key, name.replace(" ", ""))]
        for prefix in ("Mac", "Mc"):
            if name.startswith(prefix) and len(name) > len(prefix) and name[len(prefix)].isupper():
                options.append((key, f"{prefix} {name[len(prefix) :]}"))
        if key == "given_name" and len(person.given_parts) == 2 and " " not in name and "-" not in name:
            options += [(key, " ".join(person.given_parts)), (key, "-".join(person.given_parts))]
    if not options:
        return False
    key, value = rng.choice(options)
    f[key] = value
    return True


def ch_upper_case(world: World, person: Person, f: Fields) -> bool:
    f["family_name"] = f["family_name"].upper()
    if world.rng.random() < 0.5:
        f["given_name"] = f["given_name"].upper()
    return True


def ch_gender_different(world: World, person: Person, f: Fields) -> bool:
    others = [g for g in ("male", "female", "not-known") if g != f["gender"]]
    f["gender"] = world.rng.choice(others)
    return True


SINGLE: dict[str, Change] = {
    "exact copy": ch_exact,
    "typo: given name": ch_given_typo,
    "typo: family name": ch_family_typo,
    "nickname / diminutive": ch_nickname,
    "spelling variant / transliteration": ch_variant,
    "girl's family name in the father's form": ch_surname_gender_form,
    "double-barrelled -> one part": ch_double_barrel_dropped,
    "one part -> double-barrelled": ch_double_barrel_added,
    "family name changed, same address": ch_family_changed_same_address,
    "family name changed, previous name given": ch_family_changed_previous_given,
    "family name changed and moved": ch_family_changed_moved,
    "moved house, same town": ch_moved_same_town,
    "moved house, other town": ch_moved_other_town,
    "postcode ZZ99 3CZ, same address": ch_postcode_zz99,
    "postcode blank, same address": ch_postcode_blank,
    "address written differently": ch_address_written_differently,
    "dob: day and month swapped": ch_dob_day_month_swapped,
    "dob: off by one day": ch_dob_off_by_one,
    "dob: one-digit typo in the year": ch_dob_year_digit,
    "dob: wildly wrong": ch_dob_wildly_wrong,
    "given and middle names swapped": ch_given_middle_swapped,
    "middle name dropped or added": ch_middle_dropped_or_added,
    "given and family names swapped": ch_given_family_swapped,
    "accents removed": ch_accents_removed,
    "accents added": ch_accents_added,
    "apostrophe / hyphen / space / Mc": ch_punctuation,
    "names in capitals": ch_upper_case,
    "gender recorded differently": ch_gender_different,
}
COMBOS: tuple[tuple[str, str], ...] = (
    ("nickname / diminutive", "moved house, other town"),
    ("typo: given name", "dob: off by one day"),
    ("typo: family name", "moved house, same town"),
    ("dob: day and month swapped", "postcode ZZ99 3CZ, same address"),
    ("accents removed", "moved house, other town"),
    ("given and middle names swapped", "moved house, same town"),
    ("spelling variant / transliteration", "dob: off by one day"),
    ("typo: given name", "typo: family name"),
    ("nickname / diminutive", "typo: family name"),
    ("double-barrelled -> one part", "moved house, other town"),
    ("gender recorded differently", "dob: day and month swapped"),
    ("family name changed, same address", "dob: off by one day"),
    ("apostrophe / hyphen / space / Mc", "typo: given name"),
    ("dob: one-digit typo in the year", "moved house, other town"),
)
COMBO_WEIGHT = 0.4
NEW_KINDS = (
    "twin_new",
    "sibling_new",
    "parent_same_name",
    "namesake_same_year_town",
    "namesake_same_month_town",
    "namesake_same_dob_other_town",
    "new_unrelated",
)
FILE_A_KINDS = ("twin", "sibling", "namesake", "other")
NEW_LABELS = {
    "twin_new": "B new: twin of a registered pupil",
    "sibling_new": "B new: sibling of a registered pupil",
    "parent_same_name": "B new: parent, same name and address",
    "namesake_same_year_town": "B new: namesake, same year and town",
    "namesake_same_month_town": "B new: namesake, same month and town",
    "namesake_same_dob_other_town": "B new: namesake, same date, other town",
    "new_unrelated": "B new: unrelated pupil",
}
A_LABELS = {
    "twin": "A: a twin (the other in file A or B)",
    "sibling": "A: a sibling (others in file A or B)",
    "namesake": "A: namesake cluster, same town",
    "other": "A: other pupils",
}


def categories() -> list[tuple[str, tuple[Change, ...], float]]:
    out: list[tuple[str, tuple[Change, ...], float]] = [(n, (c,), 1.0) for n, c in SINGLE.items()]
    out += [(f"{a} + {b}", (SINGLE[a], SINGLE[b]), COMBO_WEIGHT) for a, b in COMBOS]
    return out


# ================================================================================================= files


@dataclass(frozen=True, slots=True)
class Sent:
    """One row sent, with the truth about it."""

    file: str  # A or B
    row: LearnerRow
    person: str
    category: str
    kind: str  # first (file A), again (file B, person registered in A), new (file B, never registered)
    related: str = ""


def base_fields(person: Person) -> Fields:
    a = person.address
    return {
        "given_name": person.given,
        "middle_names": person.middle,
        "family_name": person.family,
        "previous_family_name": "",
        "address_line1": a.line1,
        "address_line2": a.line2,
        "town": a.town,
        "county": a.county,
        "postcode": a.postcode,
        "date_of_birth": person.born.isoformat(),
        "gender": person.gender,
    }


def to_row(mis: str, f: Fields) -> LearnerRow:
    return LearnerRow(0, mis_identifier=mis, ability_to_share="share", **f)


def mis_ids(rng: random.Random, count: int, fmt: str, low: int) -> list[str]:
    return [fmt.format(n) for n in rng.sample(range(low, low * 10), count)]


def build_files(world: World, rereg_share: float) -> tuple[list[Sent], list[Sent]]:
    """File A (everyone registered once, shuffled) and file B (re-registrations with changes, and new
    people, shuffled)."""
    rng = world.rng
    registered = [p for p in world.people if p.in_file_a]
    rng.shuffle(registered)
    ids_a = mis_ids(rng, len(registered), "A{:06d}", 100_000)
    file_a = [
        Sent("A", to_row(mis, base_fields(p)), p.pid, A_LABELS[p.kind], "first")
        for mis, p in zip(ids_a, registered, strict=True)
    ]
    add_new_people(world, registered)

    # B: re-registrations. Scarce categories first; then the rest of the budget round-robin.
    budget = round(len(registered) * rereg_share)
    cats = categories()
    total_weight = sum(w for _, _, w in cats)
    pool = list(registered)
    rng.shuffle(pool)
    unassigned = {p.pid for p in pool}
    eligible: dict[str, int] = {}
    for name, changes, _ in cats:
        eligible[name] = sum(1 for p in pool[:600] if _apply(world, p, changes) is not None)
    chosen: list[tuple[Person, str, Fields]] = []

    def take(name: str, changes: tuple[Change, ...], n: int) -> int:
        got = 0
        for p in pool:
            if got >= n:
                break
            if p.pid not in unassigned:
                continue
            f = _apply(world, p, changes)
            if f is not None:
                unassigned.discard(p.pid)
                chosen.append((p, name, f))
                got += 1
        return got

    for name, changes, weight in sorted(cats, key=lambda c: eligible[c[0]]):
        take(name, changes, round(budget * weight / total_weight))
    while len(chosen) < budget:
        progress = 0
        for name, changes, _ in cats:
            if len(chosen) >= budget:
                break
            progress += take(name, changes, 1)
        if not progress:
            break
    sent_b = [Sent("B", to_row("", f), p.pid, name, "again") for p, name, f in chosen]
    for p in world.people:
        if not p.in_file_a:
            sent_b.append(Sent("B", to_row("", base_fields(p)), p.pid, NEW_LABELS[p.kind], "new", p.related))
    rng.shuffle(sent_b)
    ids_b = mis_ids(rng, len(sent_b), "SB-{:07d}", 1_000_000)
    file_b = [
        replace(s, row=replace(s.row, mis_identifier=mis)) for mis, s in zip(ids_b, sent_b, strict=True)
    ]
    return file_a, file_b


def _apply(world: World, person: Person, changes: Sequence[Change]) -> Fields | None:
    f = base_fields(person)
    for change in changes:
        if not change(world, person, f):
            return None
    return None if f == base_fields(person) and changes != (ch_exact,) else f


def write_files(
    out: Path, seed: int, file_a: Sequence[Sent], file_b: Sequence[Sent]
) -> tuple[Path, Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / f"blind{seed}-A.csv", out / f"blind{seed}-B.csv", out / f"blind{seed}-truth.csv")
    for path, sent in zip(paths[:2], (file_a, file_b), strict=True):
        with path.open("w", encoding="utf-8", newline="") as stream:
            write_lrb(stream, (s.row for s in sent), file_name=path.name, record_count=len(sent))
    with paths[2].open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(TRUTH_COLUMNS)
        for s in (*file_a, *file_b):
            writer.writerow((s.file, s.row.mis_identifier, s.person, s.category, s.kind, s.related))
    return paths


def register_both(
    file_a: Path, file_b: Path, keep: Path | None
) -> tuple[dict[str, RowResult], dict[str, RowResult]]:
    """File A as school A, then file B as school B, through one fresh server on a temporary SQLite file,
    with the real ``lrs-school register``; MISIdentifier -> result for each."""
    with tempfile.TemporaryDirectory(prefix="lrs-blind-") as scratch, ExitStack() as stack:
        directory = Path(scratch)
        db = f"sqlite:///{directory / 'lrs.sqlite3'}"
        token_a = add_school(db, SCHOOL_A, "Blind School A")
        token_b = add_school(db, SCHOOL_B, "Blind School B")
        address, _ = stack.enter_context(serving(db))
        results: list[dict[str, RowResult]] = []
        for token, source in ((token_a, file_a), (token_b, file_b)):
            path = (keep or directory) / f"{source.stem}-results.csv"
            _register(address, token, source, path)
            results.append(read_results(path))
        return results[0], results[1]


# ================================================================================================ scoring

AGAIN_VERDICTS = (
    "matched",
    "review_right",
    "review_other",
    "new",
    "false_merge",
    "rejected",
    "no_uln_before",
)
NEVER_VERDICTS = ("new", "review", "false_merge", "rejected")


@dataclass(frozen=True, slots=True)
class Pair:
    """A row and the row it is compared with (the same person's file-A row, or the ULN's owner)."""

    category: str
    verdict: str
    row: Sent
    result: RowResult
    other: Sent | None
    other_result: RowResult | None


@dataclass
class Score:
    again: dict[str, Counter[str]] = field(default_factory=dict)
    never: dict[str, Counter[str]] = field(default_factory=dict)
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)  # file -> outcome -> rows
    false_merges: list[Pair] = field(default_factory=list)
    misses: list[Pair] = field(default_factory=list)


def score(
    file_a: Sequence[Sent],
    file_b: Sequence[Sent],
    res_a: Mapping[str, RowResult],
    res_b: Mapping[str, RowResult],
) -> Score:
    s = Score()
    s.again = {name: Counter() for name, _, _ in categories()}
    s.never = {label: Counter() for label in (*A_LABELS.values(), *NEW_LABELS.values())}
    owner: dict[str, tuple[Sent, RowResult]] = {}  # ULN -> the row it was issued to (NEW)
    own: dict[str, set[str]] = defaultdict(set)  # person -> ULNs issued NEW to them in file A
    first_row: dict[str, tuple[Sent, RowResult]] = {}
    for sent, results in ((file_a, res_a), (file_b, res_b)):
        answered = [(t, results[t.row.mis_identifier]) for t in sent]
        for t, r in answered:  # owners first: rows of one file may be answered out of file order
            if r.outcome == "NEW" and r.uln:
                owner.setdefault(r.uln, (t, r))
        for t, r in answered:
            s.outcomes.setdefault(t.file, Counter())[r.outcome] += 1
            merged_into = owner.get(r.uln) if r.outcome == "MATCHED" else None
            if t.kind == "again":
                held = own[t.person]
                earlier = first_row.get(t.person)
                if not held:
                    verdict = "no_uln_before"
                elif r.outcome == "MATCHED":
                    verdict = "matched" if r.uln in held else "false_merge"
                elif r.outcome == "POSSIBLE_MATCH":
                    verdict = "review_right" if held.intersection(r.candidates) else "review_other"
                else:
                    verdict = "new" if r.outcome == "NEW" else "rejected"
                s.again[t.category][verdict] += 1
                s.again[t.category]["rows"] += 1
                if verdict == "new" and earlier is not None:
                    s.misses.append(Pair(t.category, verdict, t, r, earlier[0], earlier[1]))
            else:
                verdict = {"NEW": "new", "POSSIBLE_MATCH": "review", "MATCHED": "false_merge"}.get(
                    r.outcome, "rejected"
                )
                s.never[t.category][verdict] += 1
                s.never[t.category]["rows"] += 1
            if verdict == "false_merge":
                other = merged_into or (None, None)
                s.false_merges.append(Pair(t.category, verdict, t, r, other[0], other[1]))
            if t.file == "A":
                first_row[t.person] = (t, r)
                if r.outcome == "NEW":
                    own[t.person].add(r.uln)
    return s


# ================================================================================================= output


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "    -"


def again_table(s: Score) -> list[str]:
    head = (
        f"{'re-registered (person held a ULN)':<64} {'rows':>5} {'matched':>7} {'rev-ok':>7} {'rev-oth':>7}"
        f" {'NEW':>7} {'merged':>6} {'rej':>6} {'noULN':>5}"
    )
    out = [head]
    total: Counter[str] = Counter()
    for name, c in s.again.items():
        total.update(c)
        out.append(_again_line(name, c))
    out.append(_again_line("ALL re-registrations", total))
    return out


def _again_line(name: str, c: Counter[str]) -> str:
    d = c["rows"] - c["no_uln_before"]
    cells = " ".join(f"{_pct(c[k], d):>7}" for k in ("matched", "review_right", "review_other", "new"))
    return (
        f"  {name[:62]:<62} {c['rows']:>5} {cells} {c['false_merge']:>6} {_pct(c['rejected'], d):>6}"
        f" {c['no_uln_before']:>5}"
    )


def never_table(s: Score) -> list[str]:
    out = [f"{'never held a ULN':<64} {'rows':>5} {'NEW':>7} {'review':>7} {'FALSE MERGE':>12} {'rej':>6}"]
    for name, c in s.never.items():
        d = c["rows"]
        merged = f"{c['false_merge']} ({_pct(c['false_merge'], d).strip()})"
        out.append(
            f"  {name[:62]:<62} {d:>5} {_pct(c['new'], d):>7} {_pct(c['review'], d):>7} {merged:>12}"
            f" {_pct(c['rejected'], d):>6}"
        )
    return out


def _row_text(sent: Sent | None, result: RowResult | None) -> str:
    if sent is None:
        return "(no row of this run was issued that ULN)"
    r = sent.row
    names = f"{r.given_name} [{r.middle_names}] {r.family_name}" + (
        f" (prev {r.previous_family_name})" if r.previous_family_name else ""
    )
    outcome = ""
    if result is not None:
        outcome = f"{result.outcome} {result.uln}".strip()
        if result.candidates:
            outcome += " candidates " + ";".join(result.candidates)
    address = ", ".join(x for x in (r.address_line1, r.address_line2, r.town) if x)
    return (
        f"{sent.file} {r.mis_identifier:<11} {sent.person:<7} {names:<40} {r.date_of_birth} {r.gender:<9}"
        f" {r.postcode or '(blank)':<9} {address} -> {outcome}"
    )


def pair_lines(p: Pair, other_label: str) -> list[str]:
    return [
        f"  [{p.category}] {p.verdict.upper()}",
        f"    this row : {_row_text(p.row, p.result)}",
        f"    {other_label:<9}: {_row_text(p.other, p.other_result)}",
    ]


def spread(pairs: Sequence[Pair], n: int) -> list[Pair]:
    """Up to ``n`` pairs, round-robin over categories so that the examples are not all of one kind."""
    by: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        by[p.category].append(p)
    out: list[Pair] = []
    while len(out) < n and any(by.values()):
        for cat in list(by):
            if by[cat] and len(out) < n:
                out.append(by[cat].pop(0))
    return out


def report(s: Score, seed: int, people: int, sizes: tuple[int, int], seconds: float, examples: int) -> str:
    lines = [
        f"blind set, seed {seed}, {people:,} pupils: file A {sizes[0]:,} rows, file B {sizes[1]:,} rows"
        f" ({seconds:.1f} s to start a server and register both)"
    ]
    for file, c in sorted(s.outcomes.items()):
        rows = sum(c.values())
        parts = ", ".join(f"{k} {c[k]:,}" for k in ("NEW", "MATCHED", "POSSIBLE_MATCH", "REJECTED"))
        lines.append(f"  file {file}: {parts}; review rate {_pct(c['POSSIBLE_MATCH'], rows).strip()}")
    every: Counter[str] = Counter()
    for c in s.outcomes.values():
        every.update(c)
    lines.append(
        f"  overall review rate {_pct(every['POSSIBLE_MATCH'], sum(every.values())).strip()}"
        f" of {sum(every.values()):,} rows; false merges {len(s.false_merges)}"
    )
    lines += ["", *again_table(s), "", *never_table(s), ""]
    lines.append(
        "percentages: of rows whose person held a ULN (noULN rows left out: the file-A row got none);"
        " merged = MATCHED to someone else's ULN; rev-ok = POSSIBLE_MATCH with the person's ULN among the"
        " candidates"
    )
    lines += ["", f"FALSE MERGES ({len(s.false_merges)}): this row, and the row the ULN was issued to"]
    for p in s.false_merges:
        lines += pair_lines(p, "ULN owner")
    if examples:
        shown = spread(s.misses, examples)
        lines += [
            "",
            f"MISSED (given a second ULN): {len(shown)} of {len(s.misses)};"
            " this row, and the person's file-A row",
        ]
        for p in shown:
            lines += pair_lines(p, "file A")
    return "\n".join(lines)


def _pair_dict(p: Pair) -> dict[str, Any]:
    def row(sent: Sent | None, r: RowResult | None) -> dict[str, Any] | None:
        if sent is None:
            return None
        out: dict[str, Any] = {
            f.name: getattr(sent.row, f.name) for f in fields(sent.row) if getattr(sent.row, f.name)
        }
        out |= {"file": sent.file, "person": sent.person, "category": sent.category}
        if r is not None:
            out |= {"outcome": r.outcome, "uln": r.uln, "candidates": list(r.candidates)}
        return out

    return {
        "category": p.category,
        "verdict": p.verdict,
        "row": row(p.row, p.result),
        "other": row(p.other, p.other_result),
    }


def as_json(
    s: Score, seed: int, people: int, sizes: tuple[int, int], seconds: float, examples: int
) -> dict[str, Any]:
    return {
        "seed": seed,
        "people": people,
        "rows_a": sizes[0],
        "rows_b": sizes[1],
        "seconds": round(seconds, 1),
        "outcomes": {k: dict(v) for k, v in s.outcomes.items()},
        "reregistered": {k: dict(v) for k, v in s.again.items()},
        "never_held": {k: dict(v) for k, v in s.never.items()},
        "false_merges": [_pair_dict(p) for p in s.false_merges],
        "misses": [_pair_dict(p) for p in spread(s.misses, examples)],
        "misses_total": len(s.misses),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="generate both files, register them through a fresh server, score")
    run.add_argument("--people", type=int, default=3000, help="pupils registered in file A")
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--examples", type=int, default=0, help="print up to N missed rows (false merges: all)")
    run.add_argument("--reregister", type=float, default=0.4, help="share of file A re-registered in file B")
    run.add_argument(
        "--out", type=Path, default=None, help="keep the files here (default: a temporary folder)"
    )
    run.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    # A fixed day, not today: a seed makes the same files on any later day (everyone born by it is
    # at least MINIMUM_AGE then, and older later), so figures can be reproduced.
    world = build_population(args.people, args.seed, min(SET_DAY, date.today()))
    file_a, file_b = build_files(world, args.reregister)
    with tempfile.TemporaryDirectory(prefix="lrs-blind-files-") as scratch:
        out = args.out or Path(scratch)
        path_a, path_b, _ = write_files(out, args.seed, file_a, file_b)
        started = time.perf_counter()
        res_a, res_b = register_both(path_a, path_b, args.out)
        seconds = time.perf_counter() - started
    scored = score(file_a, file_b, res_a, res_b)
    sizes = (len(file_a), len(file_b))
    if args.json:
        print(
            json.dumps(
                as_json(scored, args.seed, args.people, sizes, seconds, args.examples), ensure_ascii=False
            )
        )
        return
    print(report(scored, args.seed, args.people, sizes, seconds, args.examples))


if __name__ == "__main__":
    main()
