"""Real guidance arrives as third-party Markdown conversions. What a reader is quoted must read as
the published text: no markup, no link targets, no reference markers, whole words, whole sentences."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.clean import clean_document, repair_converted_text, repair_ligatures
from ingest.loaders import load
from ingest.markup import html_to_text, markdown_to_text

from .conftest import CORPUS

INTEGRATION = sorted(CORPUS.glob("*.md"))


# --- markup -------------------------------------------------------------------------------------

def test_escaped_punctuation_reads_as_the_punctuation():
    assert markdown_to_text(r"integrated care boards \(ICBs\) and the 2025\/26 plan") == \
        "integrated care boards (ICBs) and the 2025/26 plan"


def test_a_link_target_left_in_brackets_is_removed():
    text = markdown_to_text("as highlighted by Lord Darzi\n\n\\(https://www.gov.uk/government/publications/x\\), the")
    assert "http" not in text and "Lord Darzi" in text


def test_a_link_target_broken_over_two_lines_is_removed():
    text = markdown_to_text("metrics list \\(Annex A \\(https://www.england.nhs.uk/long-read/nhs-oversight-framework-"
                            "\n\n2025-26/\\#annex-a-delivery-metrics\\)\\) and it will be reviewed")
    assert text == "metrics list (Annex A) and it will be reviewed"


def test_markdown_links_keep_their_text_only():
    assert markdown_to_text("see [the guidance](https://example.org/a(b)) now") == "see the guidance now"


def test_emphasis_markers_are_removed_and_an_escaped_asterisk_stays():
    assert markdown_to_text("**Bold** and *italic* and __under__ and Communit\\*") == "Bold and italic and under and Communit*"


def test_numeric_reference_markers_are_removed():
    """A paper's "[3–6]" would read as the answer's own citation numbers."""
    assert markdown_to_text("health and social care \\[3–6\\]. Costs \\[1, 2\\] rose [12].") == \
        "health and social care. Costs rose."


def test_html_blocks_read_as_text():
    text = markdown_to_text("<!--html_preserve--><h2> overview </h2> <p>Care is <strong>joined</strong> &amp; local."
                            "</p><script>alert(1)</script>")
    assert "<" not in text and "&amp;" not in text and "alert" not in text
    assert "overview" in text and "Care is joined & local." in text


def test_html_to_text_leaves_plain_text_alone():
    assert html_to_text("no tags at all") == "no tags at all"


def test_a_pasted_pdf_outline_at_the_end_is_dropped():
    body = "Real text.\n" * 50
    assert "Abstract" not in markdown_to_text(body + "# Document Outline\n\n+ Abstract\n+ Methods\n")


def test_headings_and_bullets_become_plain_lines():
    assert markdown_to_text("## Next steps\n\n- first item\n* second item") == "Next steps\n\n• first item\n• second item"


# --- repairs of the conversion ------------------------------------------------------------------------

def test_lost_ll_ligatures_are_restored_where_a_document_shows_them():
    text = "We wil work with al parts of the system. Providers are al ocated and chal enged, crucial y, in ful ."
    assert repair_ligatures(text) == ("We will work with all parts of the system. Providers are allocated and "
                                      "challenged, crucially, in full .")


def test_ligature_repair_leaves_normal_text_alone():
    text = "Iqbal et al. found that Al Smith, the social care lead, will speak."
    assert repair_ligatures(text) == text


def test_et_al_survives_in_a_document_with_lost_ligatures():
    assert repair_ligatures("This wil help. As Iqbal et al. note.") == "This will help. As Iqbal et al. note."


def test_a_sentence_broken_over_paragraphs_is_joined():
    text = "chal‑\n\nlenges to scalability and com‑\n\nmunity‑based care, reported in\n\nthe review."
    assert repair_converted_text(text) == "challenges to scalability and community‑based care, reported in the review."


def test_a_heading_before_a_paragraph_stays_apart():
    assert repair_converted_text("Next steps\n\nThe plan will follow.") == "Next steps\n\nThe plan will follow."


def test_a_tables_bold_row_label_gets_its_own_line():
    text = markdown_to_text("Planning should be anchored in outcomes, and improved **1. ** **Outcome-focused**\n\n"
                            "value for taxpayers.")
    assert text.splitlines()[0] == "1. Outcome-focused"
    assert "improved\n\nvalue for taxpayers." in text


def test_a_split_word_right_after_a_lost_will_is_joined_too():
    # "wil automatical y": "wil automatical" is no word; the pair after it, which overlaps it, is
    assert repair_ligatures("Any provider wil automatical y have it downrated. Guidance wil fol ow in 2025.") == \
        "Any provider will automatically have it downrated. Guidance will follow in 2025."


def test_et_al_at_the_start_of_a_sentence_survives():
    assert repair_ligatures("This wil help. Et al. is Latin.") == "This will help. Et al. is Latin."


def test_a_word_that_lost_its_final_l_regains_it():
    assert repair_ligatures("We wil derive the overal segment from the journal.") == \
        "We will derive the overall segment from the journal."


def test_lettered_headings_with_british_spellings_are_not_shards():
    text = "C. Standardising community health services\n\nD. Neighbourhood multidisciplinary teams (MDTs)"
    assert repair_converted_text(text).split() == text.split()


def test_table_shards_and_stray_marks_are_dropped_and_prose_kept():
    prose = "The review found that funding constraints were the most common barrier to integration."
    text = f"{prose}\n\n‑\n\n]\n\nC t, clinical d commu e, and healthcar local prac health\n\nws ojec vie\n\n0.5"
    assert repair_converted_text(text).strip() == prose


def test_reference_list_lines_are_kept_out_of_the_text():
    text = ("The review included 29 studies.\n"
            "2. Goddard M. Integrated care systems and equity: prospects and plans. J Integr Care. 2023;31:29–42.\n"
            "kings fund. org. uk/ publications. Accessed 28 Jul 2022.")
    assert repair_converted_text(text) == "The review included 29 studies."


def test_a_statement_before_a_broken_link_stays_and_the_link_goes():
    """The review's registration, on one line with its link broken into shards by the conversion."""
    text = ("Trial Registration PROSPERO ID: CRD42024597197; available: https:// www. crd. york. ac. uk/ prosp ero/ "
            "displ ay_ record.\n\nphp? Recor dID= 597197.\n\nKeywords Integrated health care systems")
    assert repair_converted_text(text).split("\n\n") == ["Trial Registration PROSPERO ID: CRD42024597197",
                                                          "Keywords Integrated health care systems"]


def test_an_email_address_is_kept_once_and_not_taken_for_shards():
    text = ("If you have any queries regarding the methodology, please contact us at\n\n"
            "nhs.oversightandassessment@nhs.net (mailto:nhs.oversightandassessment@nhs.net)\n\nCorrespondence:\n\n"
            "Fahad M. Iqbal\n\nf.iqbal@imperial.ac.uk")
    cleaned = repair_converted_text(text)
    assert "contact us at nhs.oversightandassessment@nhs.net" in cleaned and "mailto" not in cleaned
    assert "Fahad M. Iqbal f.iqbal@imperial.ac.uk" in cleaned


def test_a_running_head_glued_to_a_pages_first_line_is_cut():
    """The planning guidance's conversion starts each page's first line with the guidance's title."""
    head = "2025/26 priorities and operational planning guidance"
    text = (f"{head} Foreword from the NHS Chief Executive\n\nThe NHS faces twin challenges.\n\n{head}\n\n"
            f"{head} delivery plans that are assured by boards.\n\n{head}\n\n{head} Introduction\n\n"
            "Boards of providers are responsible for delivering the priorities in the 2025/26 priorities and "
            "operational planning guidance.")
    cleaned = repair_converted_text(text)
    assert cleaned.split("\n\n") == ["Foreword from the NHS Chief Executive", "The NHS faces twin challenges.",
                                      "delivery plans that are assured by boards.", "Introduction",
                                      "Boards of providers are responsible for delivering the priorities in the "
                                      "2025/26 priorities and operational planning guidance."]


def test_a_heading_repeated_at_line_starts_without_standing_alone_stays():
    text = "\n\n".join(["Delivering our national priorities will need every system."] * 4)
    assert repair_converted_text(text) == text


def test_repeated_page_furniture_is_dropped():
    text = "\n".join(f"Iqbal et al. BMC Public Health (2025) 25:1374\nPage {n} of 28\nText of page {n} here."
                     for n in range(1, 8))
    assert "Page" not in repair_converted_text(text) and "Iqbal" not in repair_converted_text(text)


# --- whole documents -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", INTEGRATION, ids=[p.stem for p in INTEGRATION])
def test_integration_guidance_cleans_to_plain_text(path: Path):
    from evaluation import markup_in

    doc = clean_document(load(path, 25))
    text = "\n".join(page.text for page in doc.pages)
    assert not markup_in(text), markup_in(text)[:5]
    assert "\\" not in text and "](" not in text
    assert doc.title and not doc.title.lower().startswith(("date", "document outline"))
    assert doc.date and doc.date.startswith("2025-")


def test_the_date_published_header_is_a_fact_not_a_passage(tmp_path):
    path = tmp_path / "guidance.md"
    path.write_text("Date published: 29 January, 2025\n\nDate last updated: 25 March, 2025\n\n"
                    "**Neighbourhood health guidelines 2025/26**\n\nThere is an urgent need to transform care.\n",
                    encoding="utf-8")
    doc = clean_document(load(path, 25))
    assert doc.date == "2025-01-29" and doc.extra["updated"] == "2025-03-25"
    assert doc.title == "Neighbourhood health guidelines 2025/26"
    assert "Date published" not in doc.pages[0].text and "updated" not in doc.pages[0].text


def test_a_bold_title_split_over_lines_is_one_title(tmp_path):
    path = tmp_path / "guidance.md"
    path.write_text("Classification: Official\n\n**2025/26 priorities and **\n\n**operational planning **\n\n"
                    "**guidance **\n\nPublication reference: PRN01625\n\nText of the guidance follows here.\n",
                    encoding="utf-8")
    assert clean_document(load(path, 25)).title == "2025/26 priorities and operational planning guidance"


@pytest.mark.shared
def test_a_pdf_title_set_over_several_lines_is_one_title():
    from .conftest import NHS_PDFS

    titles = {path.name: clean_document(load(path, 25)).title for path in NHS_PDFS.glob("*individual-funding*")}
    assert titles["Commissioning-policy-individual-funding-requests-v3.pdf"] == \
        "Commissioning policy: individual funding requests"
    assert titles["Standard-operating-procedures-individual-funding-requests-February-2023.pdf"] == \
        "Standard operating procedures: Individual funding requests"


def test_a_table_cut_into_word_ends_is_dropped_and_units_are_not_shards():
    shards = "Tar als in communities\nwith health and needs ws ts\nco vice vie tion er ities ed in ticipants vice"
    dose = "Patients should take 10mg once daily, and a 5mg dose when the eGFR is below 15ml/min."
    assert repair_converted_text(f"{shards}\n\n{dose}").strip() == dose


def test_long_word_fragments_mark_a_flattened_table_too():
    """"communit", "ganisations", "voluntar": ends and starts of words of any length, not only
    short ones. A heading with one word the vocabulary lacks is not judged."""
    shards = "Communit ticipation can lead to ser that needs munit ness appr needed t communities"
    prose = "Local government, health services and voluntar and community organisations work together."
    heading = "Frequency and timeliness"
    assert repair_converted_text(f"{shards}\n\n{prose}\n\n{heading}").strip().split("\n\n") == [prose, heading]


def test_a_table_flattened_a_cell_to_a_paragraph_is_dropped_as_a_run():
    cells = ["Bunga et", "Edmont", "Communit", "Par", "Lent et", "Health and", "Car ance S land"]
    prose = "The review found that funding constraints were the most common barrier."
    table = ["Domain", "Metric", "Access to services", "Urgent care", "Finance", "Deficit"]
    text = "\n\n".join([prose] + cells + [prose] + table)
    assert repair_converted_text(text).strip().split("\n\n") == [prose, prose] + table


def test_the_reviews_flattened_tables_leave_no_word_ends_in_its_text():
    path = CORPUS / "iqbal-2025-bmc-defining-integrated-neighbourhood-model.md"
    text = "\n".join(page.text for page in clean_document(load(path, 25)).pages)
    assert "ea ea na cr men cr volv" not in text and "VID er volv pr ed ough ough ocus" not in text
    assert "Bunga et\n\nEdmont" not in text and "Communit ticipation can lead to ser" not in text
    assert "A total of 29 studies met the inclusion criteria" in text
