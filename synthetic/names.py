"""Name, street and town lists for the synthetic county.

Frequencies are skewed on purpose (a few very common surnames, a long tail) because the
linkage's term-frequency adjustment is only tested if "Smith" really is common. The nickname
table is the generator's own and deliberately not the one linkage uses, so passing tests do not
just mean both sides share a list.
"""

from __future__ import annotations

FEMALE_FIRST = (
    "Margaret Susan Patricia Christine Elizabeth Mary Janet Linda Sandra Carol Jean Barbara "
    "Pauline Valerie Ann Anne Julie Karen Jacqueline Gillian Brenda Maureen Sheila Jennifer "
    "Dorothy Joan Joyce Irene Kathleen Shirley Sylvia Wendy Angela Lesley Diane Deborah Denise "
    "Catherine Helen Alison Sarah Joanne Tracey Nicola Michelle Amanda Claire Lisa Rachel Emma "
    "Louise Samantha Victoria Rebecca Jessica Laura Hannah Sophie Charlotte Lucy Amy Kelly "
    "Stephanie Donna Rosemary Eileen Doreen Marion Hazel Ruth Judith Frances Beryl Audrey "
    "Josephine Teresa Elaine Heather Yvonne Lorraine Dawn Janice Marilyn Caroline Vanessa "
    "Fiona Jane Kim Tina Sally Penelope Gail Rita Edna Vera Olive Iris Winifred Agnes Ellen "
    "Florence Evelyn Grace Alice Priya Aisha Fatima Agnieszka Katarzyna Ewa Ioana Chloe Megan"
).split()

MALE_FIRST = (
    "David John Robert Michael Peter Stephen Paul Christopher William Richard James Anthony "
    "Brian Alan Keith Kevin Graham Ian Colin Roger Terence Raymond Kenneth Barry Malcolm "
    "Geoffrey Derek Trevor Dennis Ronald Gordon Philip Martin Andrew Mark Gary Neil Simon "
    "Stuart Jonathan Timothy Nigel Clive Adrian Julian Russell Carl Darren Lee Wayne Jason "
    "Craig Dean Daniel Matthew Thomas Joseph Benjamin Samuel Luke Adam Ryan Jack Oliver Harry "
    "George Edward Frederick Arthur Albert Ernest Stanley Leonard Norman Harold Frank Walter "
    "Douglas Donald Gerald Patrick Francis Vincent Bernard Leslie Roy Eric Victor Alfred Cyril "
    "Sidney Reginald Herbert Nicholas Jeremy Hugh Rajesh Mohammed Tomasz Piotr Andrei Callum"
).split()

# Surnames with a rough frequency weight: common English names first, then a long tail.
_COMMON = (
    "Smith:60 Jones:30 Taylor:28 Brown:27 Williams:24 Wilson:20 Johnson:19 Davies:16 "
    "Robinson:15 Wright:15 Thompson:15 Evans:14 Walker:14 White:14 Roberts:13 Green:13 "
    "Hall:13 Wood:12 Jackson:12 Clarke:12 Harris:11 Edwards:10 Turner:10 Martin:10 Cooper:10 "
    "Hill:10 Ward:9 Hughes:9 Moore:9 Clark:9 King:9 Harrison:8 Lewis:8 Baker:8 Lee:8 Allen:8 "
    "Morris:8 Knowles:6 Howlett:6 Thrower:5 Gotts:5 Pegg:5 Bunn:5 Loades:4 Eke:4 Spinks:4 "
    "Howard:6 Mason:6 Parker:6 Bennett:6 Bailey:6 Chapman:5 Cook:6 Fox:5 Kemp:5 Crisp:5"
)
_TAIL = (
    "Abbott Adcock Aldous Allard Alston Ames Amies Appleton Armes Ashby Ayton Back Bagshaw "
    "Balls Barber Barnard Barrett Bartram Batley Baxter Beales Beckett Beeton Bell Betts "
    "Bidwell Bird Blake Blyth Boast Bolton Bond Boon Booty Bowman Bradfield Bray Brett "
    "Briggs Brooks Buck Bullimore Burrell Burton Bushell Butcher Buxton Cable Callaby "
    "Canham Carr Carter Cartwright Catchpole Chambers Chilvers Clements Cobb Cole Coleman "
    "Collins Copeman Cossey Crane Cross Cubitt Culley Curson Dack Dale Daniels Darby Dawson "
    "Day Dixon Dodman Doy Drake Duffield Dunham Durrant Eastick Eaton Ellis Emms Everett "
    "Fakes Farrow Fisher Fiske Fleming Flowerdew Frost Fulcher Gant Garrod Gibbs Gilbert "
    "Goddard Godfrey Goodings Gould Gray Grimes Gunton Hammond Hardy Harmer Harper Hart "
    "Hastings Hewitt Hicks Hipkin Hobbs Holmes Hood Howell Hubbard Hunt Hurrell Ives Jarvis "
    "Jeckells Kerrison Kett Kidd Lake Lambert Lane Larter Leeder Lingwood Long Lubbock "
    "Mallett Mann Marsh Matthews Mayes Meek Middleton Mills Mitchell Moy Murrell Neave "
    "Newstead Nichols Norton Nunn O'Neill Orford Osborne Page Palmer Parfitt Payne Pearce "
    "Peck Pike Platten Potter Powell Pratt Price Pye Quantrill Randell Read Reeve Rice "
    "Riches Riley Rix Rolfe Rose Rudd Sadler Sago Savage Sayer Seaman Sharman Shaw Short "
    "Simmons Skipper Slater Smith-Jones Southgate Sparkes Spooner Stannard Steward Stone "
    "Sutton Swann Symonds Tann Thain Thirtle Tooley Tuck Tungate Twiddy Utting Vincent "
    "Wade Warnes Watts Webb Wells West Whiting Wilkinson Wiseman Woodhouse Wortley Wright "
    "Yallop Youngs Kowalski Nowak Popescu Patel Khan Begum Ahmed Singh O'Brien McDonald"
)
SURNAMES: tuple[tuple[str, int], ...] = tuple(
    (item.split(":")[0], int(item.split(":")[1])) for item in _COMMON.split()
) + tuple((name, 2) for name in _TAIL.split())

# Formal name → familiar forms staff or carers actually write.
NICKNAMES = {
    "Robert": ["Bob", "Rob", "Bobby"], "William": ["Bill", "Will", "Billy"],
    "Richard": ["Dick", "Rich"], "James": ["Jim", "Jimmy"], "John": ["Jack", "Johnny"],
    "Margaret": ["Peggy", "Maggie", "Meg", "Maggy"], "Elizabeth": ["Liz", "Beth", "Betty"],
    "Patricia": ["Pat", "Trish"], "Christine": ["Chris", "Chrissie"],
    "Christopher": ["Chris"], "Michael": ["Mike", "Mick"], "Anthony": ["Tony"],
    "Kenneth": ["Ken", "Kenny"], "Terence": ["Terry"], "Raymond": ["Ray"],
    "Ronald": ["Ron", "Ronnie"], "Susan": ["Sue", "Susie"], "Jennifer": ["Jenny", "Jen"],
    "Dorothy": ["Dot", "Dottie"], "Kathleen": ["Kath", "Kathy"], "Catherine": ["Cathy", "Kate"],
    "Rebecca": ["Becky"], "Samantha": ["Sam"], "Victoria": ["Vicky"], "Frederick": ["Fred"],
    "Albert": ["Bert", "Albie"], "Edward": ["Ted", "Eddie"], "Alfred": ["Alf", "Alfie"],
    "Leonard": ["Len"], "Stanley": ["Stan"], "Harold": ["Harry"], "Francis": ["Frank"],
    "Gerald": ["Gerry"], "Nicholas": ["Nick"], "Timothy": ["Tim"], "Stephen": ["Steve"],
    "Peter": ["Pete"], "David": ["Dave"], "Daniel": ["Dan", "Danny"], "Matthew": ["Matt"],
    "Thomas": ["Tom", "Tommy"], "Joseph": ["Joe"], "Benjamin": ["Ben"], "Samuel": ["Sam"],
    "Andrew": ["Andy"], "Philip": ["Phil"], "Douglas": ["Doug"], "Donald": ["Don"],
    "Barbara": ["Barbie", "Babs"], "Josephine": ["Jo", "Josie"], "Joanne": ["Jo"],
    "Deborah": ["Debbie", "Deb"], "Pauline": ["Paula"], "Valerie": ["Val"],
    "Gillian": ["Gill", "Jill"], "Jacqueline": ["Jackie"], "Sandra": ["Sandy"],
    "Winifred": ["Winnie"], "Florence": ["Flo"], "Evelyn": ["Evie"], "Penelope": ["Penny"],
    "Teresa": ["Terri"], "Frances": ["Fran"], "Judith": ["Judy"], "Alison": ["Ali"],
    "Rosemary": ["Rosie"], "Marilyn": ["Lyn"], "Vanessa": ["Nessa"],
}

STREETS = (
    "Church Lane", "Mill Road", "The Street", "Station Road", "School Lane", "High Street",
    "Norwich Road", "London Road", "Yarmouth Road", "Cromer Road", "Holt Road", "Common Lane",
    "Chapel Street", "Manor Road", "Back Lane", "Green Lane", "Low Road", "Hall Lane",
    "Beech Avenue", "Oak Close", "Willow Way", "Elm Grove", "Meadow Close", "Orchard Way",
    "Queens Road", "Kings Road", "Victoria Street", "Park Lane", "Heath Road", "Marsh Road",
    "Broadland Way", "Wensum View", "Yare Close", "Bure Meadows", "Nar Valley Way",
    "Sandringham Drive", "Fakenham Road", "Dereham Road", "Thetford Road", "Lynn Road",
)
STREET_ABBREVIATIONS = {"Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave",
                        "Close": "Cl", "Drive": "Dr", "Grove": "Gr"}

TOWNS = {
    "Breckland": ("Thetford", "Dereham", "Swaffham", "Attleborough", "Watton"),
    "Broadland": ("Sprowston", "Hellesdon", "Aylsham", "Acle", "Taverham"),
    "Great Yarmouth": ("Great Yarmouth", "Gorleston", "Caister-on-Sea", "Martham"),
    "King's Lynn and West Norfolk": ("King's Lynn", "Downham Market", "Hunstanton",
                                     "Terrington St Clement"),
    "North Norfolk": ("Cromer", "Sheringham", "North Walsham", "Holt", "Fakenham"),
    "Norwich": ("Norwich",),
    "South Norfolk": ("Wymondham", "Diss", "Long Stratton", "Harleston", "Hethersett"),
    "Out of county": ("Lowestoft", "Bury St Edmunds", "Wisbech", "Peterborough"),
}
OUT_OF_COUNTY_OUTWARDS = ("NR32", "NR33", "IP28", "IP33", "PE13", "PE1")
