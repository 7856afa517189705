package main

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// corpus writes the seeded read model's words: support conversations in Russian (seven in ten)
// and English, their words drawn by Zipf's law from a support desk's vocabulary, so a search
// meets words in most messages, in a few percent and in one (an order number), as on a live
// desk. It is deterministic for a seed.
type corpus struct {
	r *rand.Rand
	// cumulative Zipf weights of the vocabularies
	ruW, enW []float64
}

// The vocabularies, most frequent first.
var (
	ruWords = strings.Fields(`заказ здравствуйте спасибо доставка оплата пожалуйста когда товар курьер возврат
		деньги карта сегодня адрес приложение номер помогите проблема вопрос ошибка пароль аккаунт сайт размер
		неделю завтра магазин чек скидка промокод списание подписка кабинет телефон посылка отмена обмен
		гарантия брак упаковка склад трек бонусы баллы рассрочка кешбэк самовывоз пункт выдачи сертификат
		претензия компенсация жалоба оператор менеджер уведомление`)
	enWords = strings.Fields(`order hello thanks delivery payment please when item courier refund money card
		today address app number help problem question error password account website size week tomorrow store
		receipt discount promo charge subscription profile phone parcel cancel exchange warranty damaged
		package warehouse tracking bonus points installment cashback pickup voucher complaint compensation
		manager notification`)
	firstNames = strings.Fields(`Иван Пётр Анна Мария Алексей Ольга Сергей Елена Дмитрий Наталья Андрей Татьяна
		Михаил Ирина Николай Светлана John Mary James Linda Robert Emma`)
	lastNames = strings.Fields(`Иванов Петров Смирнова Кузнецова Попов Соколова Лебедев Козлова Новиков Морозова
		Волков Павлова Семёнов Голубева Виноградов Богданова Smith Johnson Brown Taylor Wilson Clark`)
	topics = []string{"Вопрос по заказу", "Возврат товара", "Не пришла посылка", "Ошибка оплаты", "Смена адреса доставки",
		"Промокод не работает", "Списание по подписке", "Вход в личный кабинет", "Payment failed", "Where is my order",
		"Refund request", "Wrong size delivered", "Account locked", "Cancel subscription"}
)

// orderNumbers is how many distinct order numbers the messages name: each about once in every
// 3 × orderNumbers messages, the rarest words a search meets.
const orderNumbers = 400_000

func newCorpus(seed uint64) *corpus {
	c := &corpus{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	c.ruW, c.enW = zipf(len(ruWords)), zipf(len(enWords))
	return c
}

func zipf(n int) []float64 {
	w := make([]float64, n)
	sum := 0.0
	for i := range w {
		sum += 1 / float64(i+1)
		w[i] = sum
	}
	return w
}

func (c *corpus) pick(words []string, cum []float64) string {
	x := c.r.Float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return words[lo]
}

// message is one message's text: 6 to 16 words, a third naming an order number.
func (c *corpus) message() string {
	words, cum := ruWords, c.ruW
	if c.r.IntN(10) >= 7 {
		words, cum = enWords, c.enW
	}
	n := 6 + c.r.IntN(11)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.pick(words, cum))
	}
	if c.r.IntN(3) == 0 {
		b.WriteString(" №")
		b.WriteString(strconv.Itoa(100_000 + c.r.IntN(orderNumbers)))
	}
	return b.String()
}

func (c *corpus) name() string {
	return firstNames[c.r.IntN(len(firstNames))] + " " + lastNames[c.r.IntN(len(lastNames))]
}

func (c *corpus) title() string { return topics[c.r.IntN(len(topics))] }
