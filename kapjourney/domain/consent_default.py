"""The consent document a new clinic starts with (the clinic can edit it).

Drawn from the clinical reference (section 3.2, "Informed-consent content seen in KAP consents",
and the Spravato label): what KAP is, routes, expected effects, side effects, long-term concerns,
the rules around each session, exclusions, and the right to withdraw.
"""

DEFAULT_CONSENT_TEXT = """\
# Informed consent for ketamine-assisted psychotherapy

## What ketamine-assisted psychotherapy is
Ketamine-assisted psychotherapy (KAP) combines psychotherapy with supervised doses of ketamine. Ketamine is an anaesthetic medicine that, at lower doses, can ease depression, anxiety and trauma symptoms for some people.

Using ketamine for these conditions is "off-label": it is approved as an anaesthetic, and your prescriber uses it for mental health based on research and clinical experience. Ketamine is a Schedule III controlled substance.

A course usually runs: screening and this consent, preparation sessions with your therapist, several dosing sessions (often six), and integration sessions where you make sense of the experience.
? What does a KAP course combine?
- Ketamine on its own, taken at home whenever I like
* Psychotherapy with supervised ketamine dosing sessions
- A single infusion with no follow-up

## How ketamine is given
Your clinic will agree the route with you: a lozenge dissolved under the tongue, an injection into a muscle, an intravenous (IV) infusion, or a nasal spray. Some sessions take place at the clinic; some clinics offer sessions at home with a chaperone present.

The effects begin within minutes and last about 45 minutes to an hour. Plan on two to three hours for the whole session, including rest afterwards.

## What you may feel during a session
Ketamine changes perception. You may feel detached from your body or surroundings (dissociation), notice changes in vision, hearing and your sense of time, or feel that colours and sounds blend. Balance is impaired, so you will stay lying or sitting down.

These effects are expected and usually fade within one to two hours. Feelings can be intense, pleasant or unsettling. Your care team is there to keep you safe.
? How long do the main effects of a session usually last?
- A few seconds
* About an hour, fading within one to two hours
- Several days

## Side effects
Common side effects include nausea or vomiting, dizziness, headache, blurred or double vision, tiredness, and a temporary rise in blood pressure and heart rate. Blood pressure usually peaks about 40 minutes after a dose.

Your clinic checks your blood pressure before a session and will not dose if it is above the clinic's limit. Less commonly, people feel anxious, agitated or confused during a session. Your clinic has medicines ready for nausea and for high blood pressure.

## Long-term concerns
Frequent, high-dose or recreational ketamine use can damage the bladder. Tell your care team straight away about pain when passing urine, needing to go often or urgently, or blood in your urine.

Ketamine can be misused and can lead to dependence. Use it only as prescribed and tell your care team if you feel cravings. Dissociation, hallucinations or mood swings that last more than 24 hours after a session are not expected: report them.
? What should you do if you notice pain when passing urine after sessions?
- Wait until the end of the course
- Drink less water
* Tell my care team straight away

## Before and after every session
Stop eating and drinking for the number of hours your clinic sets (usually 4) before a session. Avoid alcohol, cannabis and other drugs for at least 24 hours before. Benzodiazepines (such as lorazepam, clonazepam, alprazolam or diazepam) can blunt ketamine: talk to your prescriber about holding them, and never stop a medicine without advice.

Do not drive, cycle, or use machinery or sharp tools until the next day after a night's sleep. Arrange a ride home from the clinic. For a session at home, an adult chaperone must stay with you for the whole session.
? When may you drive after a dosing session?
- As soon as I feel normal
- After one hour
* The next day, after a night's sleep

## Who should not have ketamine
Ketamine is usually not suitable during pregnancy or breastfeeding, or for people with a history of psychosis or mania, uncontrolled high blood pressure or serious heart disease, or current misuse of alcohol or drugs. Tell your clinic about every medicine you take.

Answering "yes" to a screening question does not rule you out on its own: your clinician will talk it through with you.

## Your rights
Taking part is your choice. You may ask questions at any time, and you may withdraw your consent at any time, including right before a dose, without losing access to your other care. You can withdraw in the app or by telling your care team.

Your answers are health information. Only you and your care team can see them, and every access is recorded. If you ever feel unsafe, the "Get help now" button in the app shows crisis lines straight away.
? Can you withdraw your consent once you have signed?
* Yes, at any time, even right before a dose
- No, signing is final
- Only after the course ends
"""
