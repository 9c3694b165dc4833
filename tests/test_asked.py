"""What a question asks for, and whether a sentence states it: the pieces of the near-miss refusal."""
from __future__ import annotations

import pytest

from assistant.asked import asked_for, labels_not_found, mentions, personal, staff_topic, without_self_description


@pytest.mark.parametrize("question,kind", [
    ("How much capital funding will each new neighbourhood health centre receive?", "amount"),
    ("What financial penalty does a trust face in segment 5?", "penalty"),
    ("Which technology company will build the NHS HealthStore?", "named"),
    ("What percentage sickness absence rate does the 10 Year Health Plan set as its target?", "quantity"),
    ("What is the maximum hourly rate trusts may pay bank staff?", "quantity"),
    ("How many studies were included in the review?", "count"),
    ("By when must ICBs put action plans in place?", "date"),
    ("What's the deadline for Health and Wellbeing Boards to submit plans?", "date"),
    ("How often will NHS England run the segmentation?", "frequency"),
    ("By how much must providers reduce their cost base?", "quantity"),
    ("How much are systems expected to cut their spending on agency staff?", "amount"),
    ("What share of hospital costs is this cohort associated with?", "share"),
    ("When does the new failure regime for underperforming areas kick in?", "date"),
    ("When is DHSC publishing its guidance on neighbourhood health plans?", "date"),
    ("When exactly is the technical annex coming out?", "date"),
    ("Urgent dental care - how many extra appointments are ICBs supposed to deliver their share of?", "count"),
    ("What funding will places in the national implementation programme get?", "amount"),
    ("Will GP practices get an extra payment for joining neighbourhood teams?", "whether"),
])
def test_a_question_for_something_specific_names_its_kind(question, kind):
    assert asked_for(question).kind == kind


@pytest.mark.parametrize("question", [
    "What are the six core components of neighbourhood health?",
    "When can safety pen needles be prescribed on FP10?",  # circumstances, not a date
    "What approach should systems take when delivering intermediate care?",
    "What impacts should systems, as a minimum, seek to achieve?",
    "What level of Federated Data Platform adoption is NHS England supporting?",  # a level, not a platform's name
])
def test_an_open_question_asks_for_no_kind(question):
    assert asked_for(question) is None


def test_a_year_only_places_a_yes_or_no_question():
    asked = asked_for("Are ICBs going to be segmented from 2026/27 onwards?")
    assert asked.kind == "whether" and asked.subject == ()
    assert not asked.stated_in("Plans cover the five-year period from 2026/27 to 2030/31.", "")
    assert asked.stated_in("From 2026/27 ICBs will be segmented as well as providers.", "")


def test_a_yes_or_no_question_about_a_figure_asks_for_the_figure():
    assert asked_for("Is there a national target for cutting emergency admissions?").kind == "quantity"


def test_a_share_of_a_thing_after_an_article_is_of_that_thing():
    asked = asked_for("What percentage of a provider's payment gets held back?")
    assert asked.share_of == ("provid", "payment")
    assert not asked.stated_in("Percentage of patients waiting less than 18 weeks 59%", "")


def test_a_scene_setting_clause_does_not_decide_the_kind():
    assert asked_for("When the headquarters are merged, how much will it save?").kind == "amount"


def test_a_sum_states_an_amount_and_a_percentage_does_not():
    asked = asked_for("How much capital funding will each centre receive?")
    assert asked.stated_in("Each centre will receive £2.5 million of capital.", "How much capital funding?")
    assert not asked.stated_in("Productivity must rise by 2% a year.", "How much capital funding?")


def test_a_number_the_question_already_gave_is_not_an_answer():
    question = "How many providers will be placed in segment 5?"
    assert not asked_for(question).stated_in("All providers in the PIP will be placed in segment 5.", question)
    assert asked_for(question).stated_in("Around 20 providers will be placed in segment 5.", question)


def test_years_and_plan_names_are_not_counts():
    question = "How many neighbourhood health centres will open?"
    assert not asked_for(question).stated_in("The 10 Year Health Plan sets this out for 2025/26.", question)


def test_a_bare_period_does_not_say_by_when():
    question = "What is the deadline for the plans?"
    asked = asked_for(question)
    assert not asked.stated_in("Systems continue to progress neighbourhood health in 2025/26.", question)
    assert asked.stated_in("Plans are due by June 2025.", question)


def test_a_frequency_states_how_often():
    question = "How often will NHS England run the segmentation?"
    assert asked_for(question).stated_in("We will run the segmentation process on a quarterly basis.", question)


@pytest.mark.parametrize("question,topic", [
    ("How many days of annual leave do Agenda for Change staff get?", "annual leave"),
    ("How do I reset my NHSmail password?", "password"),
    ("What is the income tax personal allowance for 2025/26?", "income tax"),
    ("How do I apply for a staff parking permit?", "parking"),
    ("How do I report sickness absence if I wake up unwell before an early shift?", "report sickness"),
    ("Which statutory and mandatory training modules do I need to complete?", "statutory and mandatory training"),
    ("How do I book a meeting room at the integrated care board's headquarters building?", "book a meeting room"),
    ("How do I set up an out-of-office automatic reply in NHSmail?", "out-of-office"),
    ("What are the staff canteen's opening hours?", "staff canteen"),
    ("How many days of carer's leave can I take to care for my elderly parent?", "carer's leave"),
    ("How do we challenge our business rates valuation for the surgery building?", "business rates"),
    ("What is the annual remuneration for a non-executive director?", "remuneration"),
])
def test_staff_matters_are_recognised(question, topic):
    assert staff_topic(question) == topic


@pytest.mark.parametrize("question, is_personal", [
    ("How do I reset my NHSmail password?", True),
    ("My tax code looks wrong on my payslip - who can fix it?", True),
    ("Can I carry over unused leave?", True),
    ("What does the plan mean for me as a district nurse?", True),
    ("What must ICBs include in their operational plans?", False),
    ("I'm locked out of my NHSmail account. How do I reset my password?", True),
    ("Our PCN might host a hub so I'm reading up. What opening hours will the centres have?", False),  # context
    ("My patient takes gliclazide - what should happen to it?", False),  # a professional's patient
    ("What must my ICB publish about its plan?", False),
    ("What does Part I of the framework cover?", False),  # a roman numeral, not the asker
    ("How are Type I and Type 2 diabetes care funded?", False),
    ("I saw a social return figure for a York scheme quoted in a paper - what was it?", False),  # a source
])
def test_questions_in_the_first_person_are_personal(question, is_personal):
    assert personal(question) is is_personal


def test_policy_questions_are_no_staff_matter():
    assert staff_topic("What should ICBs and local authorities plan together for neighbourhood health?") is None


def test_a_topic_is_mentioned_only_as_a_whole_word():
    assert mentions("parking", "Staff parking is free.") and not mentions("tax", "taxpayers and syntax")


def test_each_alone_does_not_say_how_often():
    question = "How often does NHS England rerun the provider segmentation?"
    assert not asked_for(question).stated_in("For this transitional year, each provider will be scored.", question)


@pytest.mark.parametrize("sentence", ["Sensors are changed every 14 days.", "The panel meets three times per month.",
                                      "Waiting lists are validated every 12 weeks.", "Metrics are refreshed quarterly."])
def test_frequencies_in_other_words_state_how_often(sentence):
    assert asked_for("How often is it done?").stated_in(sentence, "How often is it done?")


def test_a_count_of_another_kind_of_centre_does_not_answer():
    question = "How many neighbourhood health centres does the government expect to have open by 2030?"
    asked = asked_for(question)
    assert asked.subject == ("neighbourhood", "health", "centr")
    assert not asked.stated_in("170 community diagnostic centres will be open by March 2025.", question)
    assert asked.stated_in("The plan will open 250 neighbourhood health centres.", question)


def test_a_count_named_in_other_words_is_given_the_benefit():
    question = "How many records did the literature search bring back at the start?"
    assert asked_for(question).stated_in("A total of 276 results were retrieved through the search.", question)


def test_the_subject_of_a_count_ends_before_its_verb():
    assert asked_for("How many people need to be in the room for a decision?").subject == ("peopl",)


def test_a_share_named_in_related_words_is_stated():
    question = "What is the ambition for the share of NHS staff recruited internationally?"
    assert asked_for(question).stated_in("We aim to reduce international recruitment to less than 10%.", question)


def test_pension_scheme_questions_are_a_staff_matter():
    assert staff_topic("What is the employee contribution rate for the NHS Pension Scheme?")


@pytest.mark.parametrize("question,kind,states_none,states_one", [
    # a named measure is stated only by a sentence naming it
    ("What kappa score did the two reviewers reach for inter-rater agreement?", "quantity",
     "Full text review was performed for 50 articles.", "Agreement between reviewers was good (kappa 0.82)."),
    # a share by a percentage, not by "each" or "annual"
    ("By what percentage must ICBs cut their running costs?", "share",
     "ICBs review their running costs each year on an annual basis.", "ICBs must cut their running costs by 50%."),
    # a share of another group does not answer
    ("What percentage of patients with hypertension should be treated to NICE guidance by March 2026?", "share",
     "Improve the percentage of patients waiting no longer than 18 weeks to 65%.",
     "Treat 80% of patients with hypertension to NICE guidance."),
    # a share of a group named in two particular words needs both
    ("How large a bonus, as a percentage of the contract value, will providers receive?", "quantity",
     "Services face decommissioning or contract termination; sickness is at 5.1%.",
     "The bonus will be 2% of the contract value."),
    # a measure is named by what the question says it measures, not by its head word alone
    ("What is the maximum hourly rate trusts may pay agency staff?", "quantity",
     "Optimise premium bank rates and cut agency spend by 30%.", "The maximum hourly rate for agency staff is £45."),
    ("What inter-rater agreement (kappa score) did the review report?", "quantity",
     "Performance is reported as a bracket translated to a 1 to 4 score.", "Agreement was good (kappa 0.82)."),
    # opening hours: hours or times of day, not any number
    ("What opening hours will the new neighbourhood health centres have?", "hours",
     "250 neighbourhood health centres will open by 2035.", "Centres will be open at least 12 hours a day."),
    # which years: a period that years state
    ("Which financial years should the new five-year NHS plans cover?", "period",
     "Plans should be credible and deliverable.", "Plans cover the period 2026/27 to 2030/31."),
    # a cut is stated about what is cut: a cost base is no running cost
    ("By what percentage must ICBs cut their running costs?", "share",
     "Providers will need to reduce their cost base by at least 1%.", "ICBs must cut their running costs by 50%."),
    # ... and a sentence that never names it states no such cut
    ("By how much did the £1bn uplift cut delayed transfers of care?", "quantity",
     "We committed an additional £2bn of funding to social care.", "Delayed transfers of care fell by 12% over the year."),
    # a time limit is a length of time, not a date
    ("What will the new time limit be for the CQC to bring legal action against a provider?", "duration",
     "The CQC will move to a more data-led regulatory model in April 2026.",
     "Proceedings must be brought within 12 months of the incident."),
    # how many days or hours: a length of time, not a count of segments
    ("How many days does a trust have to appeal its NHS Oversight Framework segment?", "duration",
     "Further details on allocation to each of the 5 segments can be found in the framework.",
     "A trust may appeal within 20 working days of its segmentation."),
    ("What target average length of stay, in days, is set for adult acute mental health beds?", "duration",
     "Reduce average length of stay in adult acute mental health beds by 2025/26.",
     "Average length of stay should fall to 32 days."),
    # a maximum is a figure: "every person" is none
    ("What is the maximum caseload for a neighbourhood care coordinator?", "quantity",
     "Assign a care coordinator to every person in the population cohort.",
     "A care coordinator should hold no more than 50 people on their caseload."),
    # a numbered step, segment or case study counts nothing
    ("How many consecutive quarters must a trust spend in segment 4?", "duration",
     "Step 4: an organisation's score translates to segments 1 and 2 or case study 7.",
     "A trust in segment 4 for two consecutive quarters moves to the programme."),
    # a time of day is no count ("end the 8am scramble")
    ("How many new neighbourhood health centres will be built?", "count",
     "End the 8am scramble by building neighbourhood health centres.",
     "We will build 250 new neighbourhood health centres."),
    ("What is the exact date in December by which plans must be submitted?", "date",
     "Plans for the period from 2026/27 are signed off in December.", "Plans must be submitted by 12 December 2025."),
    ("Below what number of cases is a metric's data suppressed?", "count",
     "Where the data is suppressed, it will receive a score of 0.", "Data are suppressed where there are fewer than 5 cases."),
    # a count of another thing, named with none of the question's qualifiers, does not answer
    ("How many neighbourhood health learning and evidence sites will there be in 2025/26?", "count",
     "170 community diagnostic centres will be open by March 2025, with more than one in each ICB.",
     "There will be 12 learning and evidence sites."),
    # who leads, chairs or hosts: a sentence saying who has that role, not one naming the body
    ("Who will lead the national independent investigation into maternity and neonatal services?", "role",
     "We will launch a national independent investigation into maternity and neonatal services.",
     "The investigation will be led by Baroness Amos."),
    ("Which organisation will host the pan-ICB commissioning office in each NHS region?", "role",
     "Each region will have a pan-ICB commissioning office.", "The office will be hosted by one ICB in each region."),
    # when something will be published: a date
    ("When will the delivery metrics technical annex be published?", "date",
     "The technical annex sets out each delivery metric.", "The technical annex will be published in spring 2026."),
    # how long: a length of time or an end, not "each quarter"
    ("How long must a provider stay in the Provider Improvement Programme?", "duration",
     "Segmentation is refreshed each quarter for every provider.", "Providers stay in the programme for 12 months."),
    ("How long must a driver wait after a hypo before driving again?", "duration",
     "Drivers must check their glucose before every journey.", "Wait 45 minutes after glucose is back to normal."),
    # a numbered type is a label: "every Type 1 ED" counts no urgent treatment centres
    ("How many urgent treatment centres will be open by March 2026?", "count",
     "Increase co-located urgent treatment centres, working towards having a collocated UTC with every Type 1 ED.",
     "There will be 150 urgent treatment centres open by March 2026."),
    # a return on investment is an amount
    ("What social return for every £1 invested was calculated for the integrated neighbourhood work?", "amount",
     "The social return was calculated for the integrated neighbourhood work.",
     "A social return of £4 for every £1 invested was calculated for the integrated neighbourhood work."),
    # which Act: an Act by its name, not "new legislation"
    ("Under which Act will ICBs be made coterminous with strategic authorities?", "act",
     "We will bring forward new legislation to make ICBs coterminous with strategic authorities.",
     "The Health and Care Act 2022 allows ICBs to be made coterminous with strategic authorities."),
    # where: a place's name, not "in each region" or a month
    ("Where will the single commissioning office for each region be based?", "place",
     "Establish a single office in each NHS region by March 2026.", "The office will be based in Leeds."),
    ("In which towns will the first neighbourhood health centres open?", "place",
     "The first centres will open in areas where healthy life expectancy is lowest.",
     "The first centres will open in Bradford and Hull."),
    # who has been appointed to lead: the role's holder, not the body alone
    ("Who has been appointed to lead the new College of Executive and Clinical Leadership?", "role",
     "We will establish a new College of Executive and Clinical Leadership.",
     "The College of Executive and Clinical Leadership will be led by Dame Jane Smith."),
    # which organisation as a partner: one named, not "partnerships with industry"
    ("Which organisation will the government partner with to run the new health reward scheme?", "role",
     "We will create partnerships with industry to run the new health reward scheme.",
     "The health reward scheme will be run in partnership with the Wellcome Trust."),
    # a rate aimed at: a figure the rate is to reach, not today's
    ("What sickness absence rate is the NHS aiming to get down to under the plan?", "quantity",
     "NHS sickness absence is at a rate of 5.1%, and we aim to reduce it to the lowest level on record.",
     "We aim to reduce the NHS sickness absence rate to 4% by 2030."),
    # which tool or system: one by its name, not "validated tools"
    ("Which risk stratification tool has NHS England mandated for ICBs?", "named",
     "NHS England will work with ICBs to enable further signposting to validated tools.",
     "ICBs must use the Johns Hopkins ACG System to stratify risk."),
    ("Through which system can NHS staff see the data behind a provider's segment?", "named",
     "Staff can see the data behind each segment in the system.",
     "Staff can see the data behind each segment in the Model Health System."),
    # a figure for another group, time limit or year: the question's own figures place it
    ("What share of hospital costs is associated with the 2% to 4% of the population systems prioritise first?", "share",
     "This cohort has been estimated at around 7% of the population and associated with around 46% of hospital costs.",
     "The 2-4% of the population with the most complex needs account for 30% of hospital costs."),
    ("What is the target for ambulance handovers completed within 30 minutes?", "quantity",
     "Deliver handovers within 15 minutes, and none longer than 45 minutes.",
     "At least 95% of handovers should be completed within 30 minutes."),
    # the urgent is not the non-urgent
    ("How many additional routine (non-urgent) dental appointments must ICBs commission?", "count",
     "Commission additional urgent appointments towards 700,000 more.",
     "Commission 200,000 non-urgent dental appointments."),
    # the size of a change, not the wish for one
    ("What agency spend reduction are systems expected to deliver in 2025/26?", "quantity",
     "Reduce agency expenditure as far as possible, as part of optimising cost and productivity.",
     "As a minimum all systems are expected to deliver a 30% reduction in agency spend."),
    # a response time: another category's says nothing of this one
    ("What is the Category 1 ambulance response time this year?", "duration",
     "Category 2 ambulance response times should average no more than 30 minutes across 2025/26.",
     "Category 1 response times should average 7 minutes."),
    # what it is called: a name, not "2 new contracts"
    ("What are the two new GP contracts in the 10 Year Plan called?", "named",
     "We will introduce 2 new contracts to encourage GPs to work over larger geographies.",
     "The two contracts are the Single Neighbourhood Provider contract and the Multi-Neighbourhood Provider contract."),
    ("Which ICBs are going into clustering arrangements ahead of a merger?", "named",
     "Where ICBs are entering into clustering arrangements ahead of a merger they will plan together.",
     "Cheshire and Merseyside ICB is entering a clustering arrangement ahead of a merger."),
    # which places: places by name
    ("Which places have been picked for the first phase of the implementation programme?", "place",
     "These places will already be demonstrating a more developed approach to delivery.",
     "The first phase includes places in Bradford and Cornwall."),
    # per head: a figure per person, not a total
    ("What is the ICB running cost allowance for 2025/26, in pounds per head of population?", "amount",
     "Changes have already generated nearly £500 million of savings to support frontline services.",
     "The running cost allowance is £19 per head of population in 2025/26."),
    # who is accountable: a sentence saying who is, not the members of a team
    ("Who carries the clinical accountability for care given by a neighbourhood MDT?", "role",
     "Teams could include GPs, specialist nurses, district nurses and social workers.",
     "The GP practice remains clinically accountable for care given by the MDT."),
    # who signs off: a sentence saying who approves, not who nominates
    ("How does a trust apply to become an integrated health organisation, and who signs off the application?", "role",
     "This Partner Member is jointly nominated by the NHS trusts which provide services in the ICB's area.",
     "Applications will be approved by the NHS England board."),
    # how a rating is worked out: a sentence saying how, about that rating
    ("How is the capability rating worked out for a segment 4 trust?", "method",
     "The region will consider the trust's capability rating and decide whether it enters the programme.",
     "The capability rating is calculated from the board's self-assessment and the region's view."),
    # which had the biggest effect: a sentence that compares, not one that lists
    ("Which of the seven domains in the framework had the biggest effect on hospital admissions?", "ranking",
     "The seven domains are governance, workforce, data, finance, estates, culture and outcomes.",
     "Workforce integration had the largest effect on admissions of the seven domains."),
    # is there a target: a figure, not the cohort it would be for
    ("Is there a national target for cutting emergency admissions among people with frailty?", "quantity",
     "Adults with moderate or severe frailty are a cohort systems may prioritise.",
     "Cut emergency admissions among people with frailty by 10%."),
    # an effect size is named by the sentence that gives one
    ("What pooled effect size did the review report for hospital admissions?", "quantity",
     "Studies reported 29 outcomes on hospital admissions.", "The pooled effect size for hospital admissions was 0.3."),
    # per PCN: a figure for each, not a total
    ("How many care coordinators per PCN should there be?", "count",
     "Systems will employ 300 care coordinators.", "There should be 2 care coordinators per PCN."),
    # which areas have been chosen: by name
    ("Which areas have been chosen as the learning and evidence sites?", "named",
     "A very small number of learning and evidence sites will test the model.",
     "The learning and evidence sites are Bradford and Cornwall."),
    # how X compares with Y: a sentence that compares, with Y
    ("How does the NHS's 5.1% sickness absence rate compare with the rate in adult social care?", "comparison",
     "The NHS sickness rate of 5.1% is far higher than the average in the private sector.",
     "The NHS sickness rate of 5.1% is higher than the 4.2% rate in adult social care."),
    # a requirement: a sentence that speaks of doing that, not of the regime alone
    ("Do we have to run integrated intermediate care commissioning through the Provider Selection Regime?", "whether",
     "The ICB will comply with the Provider Selection Regime when commissioning healthcare services.",
     "Integrated intermediate care commissioning will run through the Provider Selection Regime."),
    # a requirement with a light verb: the thing required, named in full
    ("Does every neighbourhood health centre have to have a community pharmacy on site?", "whether",
     "Community diagnostic centres are likely to be anchor sites for the community.",
     "Each centre should include a community pharmacy."),
    # what the requirement is of: "every neighbourhood health centre" needs a sentence about centres
    ("Does every neighbourhood health centre have to have a community pharmacy on site?", "whether",
     "ICBs should streamline the access journey, including community pharmacy and Pharmacy First.",
     "Every neighbourhood health centre should include a community pharmacy."),
    # a requirement in a relative clause is of that clause's subject ("it"), not of the level
    ("Is there a kidney function level at which it has to be stopped?", "whether",
     "An initial fall in eGFR of up to 20% is common.",
     "Dapagliflozin should be stopped in the following situations: dialysis."),
    # a requirement of someone: that body, and what it must do
    ("Does the planning framework require Healthwatch to sign off ICB five-year plans?", "whether",
     "ICBs will take their five-year plans through board assurance and sign off processes in December.",
     "Healthwatch will sign off each ICB's five-year plan."),
    # whether a thing exists: the thing, named
    ("Is there a dedicated funding stream for voluntary sector organisations, and how would we apply?", "whether",
     "In York, a social return of £4 for every £1 invested was calculated across voluntary sectors.",
     "A dedicated funding stream will support voluntary sector partners."),
    # an appeal: a sentence that speaks of one, not of how segments are given
    ("Can a trust appeal the segment it's been given under the oversight framework?", "recourse",
     "An automated process follows a set of rules and metrics to derive a provider's segment.",
     "Providers may appeal their segment within 28 days."),
    # which ICB is hosting: a sentence saying who hosts, not one about the office
    ("Which ICB is hosting the pan-ICB commissioning office for our region?", "role",
     "ICBs will establish a single (one per NHS region) office for pan-ICB commissioning.",
     "The office will be hosted by NHS Greater Manchester ICB."),
    # more of a thing is that thing: "additional" appointments answer "extra" ones
    ("How many extra appointments should ICBs deliver?", "count",
     "ICBs should improve access to urgent dental care.",
     "ICBs deliver their share of an additional 700,000 dental appointments."),
    # ... and of people too ("additional people" are the extra people asked about)
    ("How many extra people will the service support?", "count",
     "The service will support people with complex needs.",
     "The service will support an additional 6,000 people."),
    # ... but with another qualifier, that one decides: new training posts are no medical school places
    ("How many additional medical school places will be created?", "count",
     "Over the next 3 years, create 1,000 new specialty training posts.",
     "We will create 500 additional medical school places."),
    # a caseload is a number of people
    ("What caseload is a neighbourhood MDT care coordinator expected to carry?", "quantity",
     "Care coordinators are expected to deliver proactive, planned care.",
     "Each care coordinator should carry a caseload of 50 people."),
    # an email address: the address itself
    ("Is there an email address for sharing our planning best-practice examples with NHS England?", "contact",
     "We encourage all organisations to share their best-practice examples with NHS England.",
     "Share your examples with england.ops-planning@nhs.net."),
    # what "what is the X" measures must be named: a figure of another thing beside it is no answer
    ("What's the MHIS growth percentage ICBs have to hit in 2025/26?", "quantity",
     "We expect ICBs to meet the Mental Health Investment Standard (MHIS) and work with providers to: 12",
     "ICBs must grow mental health spending in line with MHIS growth of 5% in 2025/26."),
    # ... and what "what did X cost" asks for, the cost: a return per pound invested is another figure
    ("What did the York loneliness programme cost to run each year?", "amount",
     "In York, a social return of £4 for every £1 invested was calculated.",
     "The York programme cost £200,000 a year to run."),
    # whether a thing is received: the thing must be named
    ("Will GP practices get an extra payment for taking part in neighbourhood teams?", "whether",
     "GP practices take part in neighbourhood multidisciplinary teams.",
     "Practices will receive an additional payment for taking part."),
    # a number with decimals is a measure's value, not a count; a decimal of millions still counts
    ("How many metrics in total is an acute trust scored on?", "count",
     "Overall score (sum of metric scores divided by number of scores): 1.53",
     "Each acute trust is scored on 1.2 million metrics."),
    # one word counted: figures that count only other things do not count it
    ("How many participants were covered by the studies in the review?", "count",
     "This resulted in 29 articles included in our review.",
     "The included studies covered 12,000 participants."),
    # ... words for the same things do: a review's articles are its studies
    ("How many studies were included in the review?", "count",
     "The review followed 4 sequential steps.",
     "This resulted in 29 articles included in our review."),
    # ... and anyone is people
    ("How many people were interviewed for the work?", "count",
     "Interviews were held across the country.",
     "This is the result of interviews with more than 50 council CEOs."),
    # a name that answers "which X" is said of what the question says of X
    ("Which areas have been picked as the learning and evidence sites?", "named",
     "Melbourne: Veritas Health. Innovating context: evidence from an area based initiative in England.",
     "The learning and evidence sites picked are Bradford and Salford."),
    # ... which is what follows X to the end of that ask, not the question's context or second ask
    ("In the BMC review, which tool did they use to judge study quality, and what approach did they take?", "named",
     "The review used a thematic approach to themes.",
     "Study quality was assessed with the Mixed-Methods Appraisal Tool (MMAT)."),
    # a part of a whole is said as a share as often as a sum
    ("Roughly how much of hospital spend does this cohort account for?", "quantity",
     "This cohort needs more joined-up care.",
     "This cohort accounts for 46% of hospital costs."),
    # the exact deadline of a month the question names: a day of it, not the years plans cover
    ("What is the exact December deadline for submitting plan returns?", "date",
     "Plans cover the five-year period from 2026/27 to 2030/31.",
     "Plans must be submitted by 12 December 2025."),
    # what is saved so far: a sum saved, not a cut aimed at, nor a cut of another cost
    ("How much have ICBs saved so far by reducing their running costs?", "amount",
     "Providers will need to reduce their cost base by at least £10 million.",
     "ICBs have so far saved £200 million by reducing their running costs."),
    # the thing a date is asked of is named by the sentence that dates it
    ("When will the redesigned national plan return templates be issued to ICBs and trusts?", "date",
     "ICBs will refresh plans given the publication of the 10 Year Health Plan in the spring of 2025.",
     "The redesigned templates will be issued in January 2026."),
    # which ICB: an ICB by its name, not another name in the sentence
    ("Which ICB has formally adopted the Iqbal integrated neighbourhood framework?", "named",
     "The Provider Improvement Programme has adopted the integrated neighbourhood framework.",
     "North Central London ICB has adopted the framework."),
    # money raised is a sum, not a percentage rise
    ("How much capital is the public private partnership for neighbourhood health centres expected to raise?", "amount",
     "We have set the NHS a target to deliver a 2% year on year productivity gain.",
     "The partnership is expected to raise £2 billion of private capital."),
    # a current average: a worked example's figure is none
    ("What is the current average organisational delivery score across all NHS trusts?", "quantity",
     "The example trust's organisational delivery score of 1.53 is in the lowest quartile.",
     "The average organisational delivery score across trusts is currently 2.4."),
    # which named tool, four words before "tool": a tool by its name
    ("Which named population health management tool must ICBs use to segment their populations?", "named",
     "Apply a single, consistent system-wide population health management method to ICB analytics platforms.",
     "ICBs must use the Johns Hopkins ACG System to segment their populations."),
    # a set percentage cut of running costs: of that cost, not another
    ("Is there a set percentage that ICBs have to cut their running costs by in 2025/26?", "quantity",
     "Providers will need to reduce their cost base by at least 1% in 2025/26.",
     "ICBs must cut their running costs by 50% in 2025/26."),
    # a current figure: what will be done gives none
    ("What is the current average organisational delivery score across all NHS trusts?", "quantity",
     "Organisations in the lowest quartile of delivery scores will be scored 1.",
     "Across all trusts the organisational delivery score currently averages 2.4."),
    # "how many additional GPs": "2 new contracts" counts contracts, not GPs
    ("How many additional GPs does the 10 Year Health Plan commit to training?", "count",
     "We will introduce 2 new contracts to allow GPs to work over larger geographies.",
     "We will train 2,000 additional GPs."),
    # a target for another year than the question's is none
    ("Trust board paper prep: what is the national 18-week RTT target for March 2027?", "quantity",
     "Improve the percentage of patients waiting no longer than 18 weeks for treatment to 65% by March 2026.",
     "Improve the percentage of patients waiting no longer than 18 weeks for treatment to 70% by March 2027."),
    # a keyword query's figure is of the words before the word that asks for it
    ("MHIS growth percentage 2025/26", "quantity",
     "Improve the percentage of patients waiting no longer than 18 weeks to 65% in 2025/26.",
     "MHIS growth in 2025/26 is 4.5%."),
    # a publication date typed as keywords
    ("NOF delivery metrics technical annex publication date", "date",
     "The delivery metrics technical annex (due to be published shortly) gives the specifications.",
     "The delivery metrics technical annex will be published in June 2025."),
    # open on Sundays: a sentence that says which days, not how many
    ("Will the new neighbourhood health centres be open on Sundays?", "opening",
     "Neighbourhood health centres will be open at least 12 hours a day and 6 days a week.",
     "Neighbourhood health centres will also open on Sundays."),
    # what a scheme cost to run: its cost, not its return
    ("How much did the York integrated neighbourhood scheme cost to run?", "amount",
     "In York, a social return of £4 for every £1 invested was calculated.",
     "The York scheme cost £1.2 million to run."),
    # from which year ICBs are segmented: a year said of ICBs
    ("From which year will ICBs be given a segment under the NHS Oversight Framework?", "date",
     "NHS providers will be segmented from April 2025.", "ICBs will be given a segment from April 2026."),
    # what percentage are children: a share said of children, however general a group
    ("Of the roughly 7% of people with complex needs, what percentage are children and young people?", "share",
     "This cohort has been estimated at around 7% of the population and 46% of hospital costs.",
     "Of the 7% in the cohort, around 20% are children and young people."),
    # why: a sentence that gives a reason, not one that states the fact again
    ("Why does the NHS have 19% more staff than before the pandemic?", "reason",
     "Across the NHS we are seeing around 14% more patient contacts than pre-pandemic, but we also have 19% more staff.",
     "Staff numbers grew because of the pandemic recovery programme."),
    # an abbreviation the question spells out is named by its long form
    ("how many CDCs (community diagnostic centre) open by Mar 2025?", "count",
     "170 hospitals will be open by March 2025 in each ICB.",
     "170 community diagnostic centres will be open by March 2025, with more than one in each ICB."),
    # a reason: "as part of" and "since 2021/22" give none
    ("Why did NHS England pick April 2022 as the baseline for cutting spend on support functions?", "reason",
     "As part of reducing variation, productivity has increased since 2021/22.",
     "April 2022 was chosen as the baseline since it precedes the growth in support functions."),
    # "whats", "%": typed in a hurry, asked as "what's", "percentage"
    ("MHIS growth % ICBs must hit in 2025/26?", "quantity",
     "ICBs must meet the Mental Health Investment Standard (MHIS) and work with providers to: 12",
     "ICBs must deliver MHIS growth of 4.5% in 2025/26."),
    ("whats the 4 hour A&E target for March 2027?", "quantity",
     "A minimum of 78% of patients should be seen within 4 hours in March 2026.",
     "A minimum of 82% of patients should be seen within 4 hours in March 2027."),
    # "I want to know when DHSC will publish": a date, of what is published
    ("As a HOSC member I want to know when DHSC will publish its guidance on neighbourhood health plans?", "date",
     "DHSC will publish separate guidance to support their development.",
     "DHSC will publish its guidance on neighbourhood health plans in June 2025."),
    # "a segment of 1 or 2" and "downrated to 3" are labels, not counts
    ("What is the minimum number of scored metrics a trust needs before it is given a segment?", "count",
     "Any provider with a segment of 1 or 2 that is reporting a deficit will have its segment downrated to 3.",
     "A trust needs data for at least 10 scored metrics before it is given a segment."),
    # "due to be published": the thing dated is the review, not "due"
    ("When is the workforce review due to be published?", "date",
     "The plan will be published in June 2025.",
     "The workforce review will be published in June 2025."),
    # a target for a named year: a figure in a sentence that names no year is no answer
    ("What is the 4-hour A&E target for March 2027?", "quantity",
     "More people are completing treatment in A&E within 4 hours, and some wait 12 hours or more.",
     "A minimum of 82% of patients should be seen within 4 hours by March 2027."),
    # "the number of scored metrics" counts metrics: "4 sequential steps" counts none
    ("What is the number of scored metrics a provider needs?", "count",
     "The segmentation process follows 4 sequential steps.",
     "A provider needs data for at least 10 scored metrics."),
    # "each quarter", "quarter 1 data" are times, not shares
    ("What proportion of trusts were placed in segment 5?", "share",
     "Segmentation based on quarter 1 data will be published each quarter for segment 5.",
     "A quarter of trusts were placed in segment 5."),
    # remuneration is paid in money
    ("What is the annual remuneration for a non-executive member?", "amount",
     "Remuneration for the Non-executive Members will be set by the Remuneration Committee.",
     "The remuneration of Non-executive Members is £13,000 a year."),
    # a registration is dated: a registration number is no date
    ("When was the review registered on PROSPERO?", "date",
     "The review was registered at the International Prospective Register of Systematic Reviews (CRD42024597197).",
     "The review was registered on PROSPERO on 12 March 2024."),
    # a population size is a number of people, and "2% to 4% of the population" is a share of one
    ("What population size is recommended for a neighbourhood?", "quantity",
     "This approach is likely to focus on around 2% to 4% of the population.",
     "A neighbourhood should serve a population of 30,000 to 50,000 people."),
    # "by how much (in %)": a percentage, not the footnote after the name
    ("By how much (in %) must MHIS spend grow?", "quantity",
     "ICBs must meet the Mental Health Investment Standard (MHIS) and work with providers to: 12",
     "MHIS spend must grow by 4.5%."),
    # "five-year strategic commissioning plans" are a kind of plan, not a count of them
    ("What is the minimum number of plans an ICB must publish?", "count",
     "ICBs publish five-year strategic commissioning plans.",
     "An ICB must publish at least 2 plans."),
], ids=["named-score", "share-not-each", "share-of-another-group", "share-of-two-words", "measure-qualified",
        "measure-in-brackets", "opening-hours", "which-years", "cut-of-another-thing",
        "cut-never-named", "time-limit", "how-many-days", "in-days", "maximum-is-a-figure", "labels-count-nothing",
        "time-of-day-no-count", "exact-date", "what-number", "count-of-another-thing", "who-leads", "who-hosts",
        "when-published", "how-long", "how-long-minutes", "type-is-a-label", "social-return", "which-act",
        "where-based", "which-towns", "appointed-to-lead", "partner-named", "rate-aimed-at", "which-tool",
        "which-system", "figure-for-another-group", "figure-for-another-time-limit", "urgent-is-not-non-urgent",
        "size-of-a-change", "response-time-of-another-category", "what-it-is-called", "which-icbs", "which-places",
        "per-head", "who-is-accountable", "who-signs-off", "how-it-is-worked-out", "which-had-the-biggest-effect",
        "is-there-a-target", "effect-size", "per-pcn", "which-areas-chosen", "compared-with",
        "required-verb", "required-thing", "required-of-what", "required-in-a-relative-clause", "required-of-someone", "is-there-a-thing", "appeal", "which-icb-is-hosting",
        "extra-is-additional", "extra-people-are-additional", "new-posts-are-no-school-places", "caseload", "email-address",
        "what-is-measured-named", "what-it-cost", "received-thing", "decimal-is-no-count",
        "one-word-counted", "studies-are-articles", "anyone-is-people",
        "name-said-of-what-is-asked", "which-x-ask-ends", "how-much-of-a-whole",
        "exact-deadline", "saved-so-far", "dated-thing-named", "which-icb-names-an-icb", "capital-raised",
        "current-average-not-an-example", "which-named-tool", "set-percentage-cut-of-what", "current-not-future",
        "additional-things-counted", "target-for-another-year", "keyword-query-subject",
        "keyword-publication-date", "open-on-sundays", "cost-to-run", "from-which-year", "what-percentage-are", "why-a-reason", "abbreviation-spelled-out-names-it",
        "reason-not-as-part-of", "percent-sign", "whats", "want-to-know-when", "segment-of-is-a-label",
        "due-to-be-published", "target-for-a-year", "scored-metrics-counted", "quarter-is-a-time", "remuneration-amount",
        "registration-dated", "population-size", "by-how-much-percent", "five-year-is-a-kind"])
def test_what_states_the_thing_asked_for(question, kind, states_none, states_one):
    asked = asked_for(question)
    assert asked.kind == kind
    assert not asked.stated_in(states_none, question)
    assert asked.stated_in(states_one, question)


def test_over_what_period_is_no_question_for_years():
    """Found on the blind test set: "How many Dexcom One sensors ..., and over what period?" is
    answered by "10 days", and was refused as a period the documents do not state."""
    asked = asked_for("How many Dexcom One sensors should be prescribed, and over what period?")
    assert asked.kind == "count"


def test_opening_hours_are_still_stated_by_times_of_day():
    question = "What opening hours will the new centres have?"
    assert asked_for(question).stated_in("Centres will open from 8am to 8pm.", question)


def test_a_sickness_rate_is_no_staff_matter():
    """The documents discuss the NHS's sickness rates: only reporting one's own sickness is a staff matter."""
    assert staff_topic("What sickness absence rate is the NHS aiming for under the 10 Year Health Plan?") is None


def test_a_role_named_in_the_question_is_not_its_answer():
    question = "Who will chair the new national maternity and neonatal taskforce?"
    asked = asked_for(question)
    assert asked.kind == "role"
    assert asked.stated_in("The taskforce will be chaired by the Secretary of State.", question)
    assert not asked.stated_in("We will set up a national maternity and neonatal taskforce.", question)


def test_a_figure_about_another_named_place_does_not_answer():
    """From a blind tuning set: York's social return is no answer about Bradford's."""
    question = "What social return for every £1 invested was calculated for the Bradford Inequalities Research Unit?"
    asked = asked_for(question)
    assert not asked.stated_in("For example, in York, a social return of £4 for every £1 invested was calculated.",
                               question)
    assert asked.stated_in("In Bradford, a social return of £3 for every £1 invested was calculated.", question)


def test_a_name_that_only_places_the_question_need_not_be_repeated():
    """"In the Iqbal et al. review" says where to look; the sentence that answers names no one."""
    question = "How many studies were included in the Iqbal et al. systematic review?"
    assert asked_for(question).stated_in("A total of 29 studies met the inclusion criteria.", question)


def test_roles_written_with_a_capital_name_no_one_else():
    question = "How many board meetings in a row can a C&P ICB member miss before removal?"
    assert asked_for(question).stated_in("The Chair may remove a member who misses three consecutive board meetings.",
                                         question)


def test_a_kind_of_people_in_capitals_is_no_other_name():
    """"Council CEOs" names no particular body in place of the District Councils Network."""
    question = "How many council leaders and officers were interviewed for the District Councils Network work?"
    assert asked_for(question).stated_in("This is the result of interviews with more than 50 council CEOs, mayors "
                                         "and officers.", question)


def test_a_table_rows_labels_are_no_other_names():
    """A row keeps its header beside each value; "Lead partner" is a column, not a body."""
    question = "What is the 2025/26 budget for reablement in the Better Care Fund?"
    assert asked_for(question).stated_in("Service: Reablement | Lead partner: Council | Budget 2025/26: £3.2m",
                                         question)


def test_a_figure_for_another_year_does_not_answer():
    question = "What is the minimum percentage of patients to be seen within 4 hours in A&E in March 2027?"
    asked = asked_for(question)
    assert not asked.stated_in("A minimum of 78% of patients seen within 4 hours in March 2026.", question)
    assert asked.stated_in("A minimum of 82% of patients seen within 4 hours in March 2027.", question)
    # a financial year holds both its years, and a sentence without a year is given the benefit
    assert asked.stated_in("Across 2026/27, a minimum of 82% of patients seen within 4 hours.", question)
    assert asked.stated_in("A minimum of 82% of patients should be seen within 4 hours.", question)


def test_a_year_is_the_answer_when_a_date_is_asked_for():
    question = "By when must the 2025 plans be published?"
    assert asked_for(question).stated_in("Plans must be published by 31 March 2026.", question)


def test_figures_are_read_with_their_units():
    from assistant.asked import _figures

    assert dict(_figures("a two-hour response, an 18-week wait, 2-4% of people, 1,200 days, in 2025/26, "
                         "the 10 Year Health Plan")) == {
        "hour": (2.0,), "week": (18.0,), "%": (2.0, 4.0), "day": (1200.0,), "year": (2025.0, 2026.0)}


def test_a_figure_of_zero_is_read_as_one():
    """"Zero-hours contracts" once raised ValueError, failing the whole question."""
    question = "How many zero-hours contracts does the plan allow?"
    assert dict(asked_for(question).figures) == {"hour": (0.0,)}


def test_a_target_is_no_answer_to_what_the_figure_is_now():
    question = "What is the current national percentage of patients waiting no longer than 18 weeks?"
    asked = asked_for(question)
    assert asked.current
    assert not asked.stated_in("Improve the percentage waiting no longer than 18 weeks to 65% nationally by March "
                               "2026, with every trust expected to deliver a minimum 5% point improvement.", question)
    assert asked.stated_in("Today 59% of patients wait no longer than 18 weeks.", question)


@pytest.mark.parametrize("role_question", ["Who chairs the joint neighbourhood health taskforce?",
                                           "Who leads the joint neighbourhood health taskforce?"])
def test_who_chairs_in_the_present_asks_for_the_holder(role_question):
    asked = asked_for(role_question)
    assert asked.kind == "role"
    assert not asked.stated_in("A joint neighbourhood health taskforce comprising senior leaders from each "
                               "organisation.", role_question)


def test_criteria_are_stated_only_by_a_sentence_that_speaks_of_them():
    question = "What criteria must a system meet to count as a mature, highly performing system?"
    asked = asked_for(question)
    assert asked.kind == "list"
    assert not asked.stated_in("In mature, highly performing systems, providers will lead local planning.", question)
    assert asked.stated_in("A system is mature when it meets three conditions: a shared plan, pooled budgets and "
                           "joint leadership.", question)


def test_a_list_refusal_reads_in_the_plural():
    from assistant.assistant import not_stated

    assert "cannot give them" in not_stated(asked_for("Which indicators will the evaluation framework use?"), [])


def test_a_numbered_part_no_passage_names_is_not_found():
    question = "Does the guidance require the ICB and the council to have a section 75 agreement?"
    assert labels_not_found(question, ["Councils and ICBs should agree pooled budgets."]) == ["section 75"]
    assert labels_not_found(question, ["Pooled budgets under section 76 are one option."]) == ["section 75"]
    assert labels_not_found(question, ["A Section 75 agreement lets them pool budgets."]) == []


def test_labels_are_read_in_their_written_forms():
    assert labels_not_found("What is the Cat 1 response time?", ["Category 1 calls: 7 minutes."]) == []
    assert labels_not_found("What is the starting dose for type 2 diabetes?", ["adults with type-2 diabetes"]) == []
    assert labels_not_found("Which trusts are in segments 3 or 4?", ["Trusts in segment 4 ..."]) == ["segment 3"]


def test_how_many_exactly_counts_what_the_question_said_there_are_more_of():
    assert asked_for("The plan will train thousands more GPs - how many exactly?").subject == ("gps",)


def test_a_number_that_names_a_plan_is_no_label():
    """ "sickness rate current figure 10 Year Health Plan" was refused as not mentioning "figure 10"."""
    assert labels_not_found("NHS staff sickness rate current figure 10 Year Health Plan", ["no labels here"]) == []


def test_a_count_asked_first_is_asked_before_the_names():
    question = "Exactly how many learning and evidence sites will there be, and which ICBs host them?"
    assert asked_for(question).kind == "count"
    assert asked_for("Which ICBs are going into clustering arrangements ahead of a merger?").kind == "named"


def test_a_name_in_a_sentence_of_context_does_not_place_the_ask():
    """ "Our PCN might host a hub so I'm reading up." names a PCN; the cohort's 7% answers what follows."""
    question = "Our PCN might host a hub so I'm reading up. Roughly what share of the population is in the cohort?"
    sentence = "This cohort has been estimated at around 7% of the population, according to NHS England analysis."
    assert asked_for(question).names == ()
    assert asked_for(question).stated_in(sentence, question)


@pytest.mark.parametrize("question,left", [
    ("I'm a journalist writing about overseas nurses. Does the plan cut reliance?", ". Does the plan cut reliance?"),
    ("As a social care director I keep hearing about the six components.", "I keep hearing about the six components."),
    ("Healthwatch volunteer here - what hours will centres open?", "- what hours will centres open?"),
    # "as a" inside the question is part of what is asked
    ("What happens to trusts classed as a Quillmarsh provider?", "What happens to trusts classed as a Quillmarsh provider?"),
])
def test_who_the_asker_says_they_are_is_left_out_of_the_names_checked(question, left):
    assert without_self_description(question).split() == left.split()
